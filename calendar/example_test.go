package calendar_test

import (
	"context"
	"fmt"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mock"
)

// invitation is the text/calendar part of a (malicious) meeting invite.
var invitation = []byte("BEGIN:VCALENDAR\r\n" +
	"VERSION:2.0\r\n" +
	"PRODID:-//Example//EN\r\n" +
	"METHOD:REQUEST\r\n" +
	"BEGIN:VEVENT\r\n" +
	"UID:7f3a9c@billing.example\r\n" +
	"DTSTAMP:20300101T090000Z\r\n" +
	"SEQUENCE:0\r\n" +
	"DTSTART:20300102T090000Z\r\n" +
	"DTEND:20300102T093000Z\r\n" +
	"SUMMARY:Payment confirmation - open the link\r\n" +
	"ORGANIZER;CN=Billing:mailto:billing@billing.example\r\n" +
	"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:ann@corp.example\r\n" +
	"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:ben@corp.example\r\n" +
	"END:VEVENT\r\n" +
	"END:VCALENDAR\r\n")

func ExampleParseInvite() {
	inv, err := calendar.ParseInvite(invitation, "REQUEST")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(inv.Method, inv.UID, inv.Sequence)
	fmt.Println(inv.Organizer)
	fmt.Println(inv.Summary, inv.Start.Format("2006-01-02 15:04 MST"))
	// Output:
	// REQUEST 7f3a9c@billing.example 0
	// billing@billing.example
	// Payment confirmation - open the link 2030-01-02 09:00 UTC
}

// The invite reached two users. Delivery created a tentative entry in both
// calendars; Ben also added the invite's .ics file to his calendar
// himself. Hard-deleting the message removes Ann's entry and keeps Ben's.
func ExampleRemoveInviteEntries() {
	ctx := context.Background()
	tenant := mock.New(nil)
	for _, u := range []string{"ann@corp.example", "ben@corp.example"} {
		if err := tenant.AddUser(u); err != nil {
			fmt.Println(err)
			return
		}
	}
	const messageID = "<c0ffee@billing.example>"
	inv, err := calendar.ParseInvite(invitation, "REQUEST")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range []string{"ann@corp.example", "ben@corp.example"} {
		res, err := calendar.ApplyInvite(ctx, tenant, u, inv, messageID)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(u, res.Action)
	}
	if _, err := calendar.Import(ctx, tenant, "ben@corp.example", invitation, messageID, "invite.ics"); err != nil {
		fmt.Println(err)
		return
	}

	for _, u := range []string{"ann@corp.example", "ben@corp.example"} {
		rep, err := calendar.RemoveInviteEntries(ctx, tenant, u, inv.Series(messageID))
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, d := range rep.Removed {
			fmt.Printf("%s: removed %q: %s (%s)\n", u, d.Entry.Master.Summary, d.Reason, d.Reason.Text())
		}
		for _, d := range rep.Kept {
			fmt.Printf("%s: kept %q: %s (%s)\n", u, d.Entry.Master.Summary, d.Reason, d.Reason.Text())
		}
	}
	// Output:
	// ann@corp.example created
	// ben@corp.example created
	// ann@corp.example: removed "Payment confirmation - open the link": invite-message (created by the meeting invite of this message)
	// ben@corp.example: kept "Payment confirmation - open the link": imported (imported by the user from an .ics file)
}
