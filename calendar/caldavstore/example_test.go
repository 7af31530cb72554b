package caldavstore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/calendar/internal/caldavmem"
)

// A store over a CalDAV server with per-user credentials: create a
// calendar, store an invite entry with its provenance, find it by the
// invite's message id, and hard-delete it.
func Example() {
	ctx := context.Background()
	srv, err := caldavmem.New(map[string]string{"alice@example.com": "secret"})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	store, err := caldavstore.New(srv.URL, caldavstore.PerUser(map[string]caldavstore.Credential{
		"alice@example.com": {Username: "alice@example.com", Password: "secret"},
	}), &caldavstore.Options{
		AllowInsecure: true,                                     // loopback test server; use https otherwise
		ProvenanceKey: []byte("load-me-from-your-secret-store"), // signs provenance; keep it secret and stable
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := store.EnsureCalendar(ctx, "alice@example.com", "calendar", "Calendar"); err != nil {
		log.Fatal(err)
	}

	start := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	put, err := store.Put(ctx, "alice@example.com", calendar.Entry{
		Calendar: "calendar",
		UID:      "payroll-1@evil.example",
		Master:   &calendar.Occurrence{Summary: "Payroll update", Start: start, End: start.Add(time.Hour), Status: "TENTATIVE"},
		Provenance: calendar.Provenance{
			Kind: calendar.ProvenanceInvite, MessageID: "inv-1@evil.example",
			Organizer: "hr@evil.example", Method: "REQUEST", SeriesUID: "payroll-1@evil.example",
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored as", put.Calendar+"/"+put.ID)

	found, err := store.Find(ctx, "alice@example.com", calendar.Query{MessageID: "<INV-1@evil.example>"})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range found {
		fmt.Println("found", e.UID, e.Provenance.Kind, e.Provenance.Method)
		// With the ETag Find gave, the delete removes this version only.
		if err := store.Delete(ctx, "alice@example.com", e.Calendar, e.ID, e.ETag); err != nil {
			log.Fatal(err)
		}
	}
	// Deleting again is not an error.
	fmt.Println("delete again:", store.Delete(ctx, "alice@example.com", put.Calendar, put.ID, ""))
	// Output:
	// stored as calendar/payroll-1@evil.example.ics
	// found payroll-1@evil.example invite REQUEST
	// delete again: <nil>
}
