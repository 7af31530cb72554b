package mock_test

import (
	"context"
	"fmt"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mock"
)

// Delivery turns the meeting invite into a tentative entry in each
// recipient's calendar; Ben then adds the attached .ics himself. The
// hard-delete rule removes Ann's entry and keeps Ben's.
func ExampleTenant_ImportICS() {
	ctx := context.Background()
	tn := mock.New(nil)
	for _, u := range []string{calAnn, calBen} {
		if err := tn.AddUser(u); err != nil {
			fmt.Println(err)
			return
		}
	}
	addrs, err := tn.Deliver(ctx, inviteMail("ex@outside.example", "REQUEST", "uid-ex", "Invoice review", true), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := tn.ImportICS(ctx, calBen, addrs[1], "invite.ics"); err != nil {
		fmt.Println(err)
		return
	}
	series := calendar.Series{UID: "uid-ex", Organizer: "boss@outside.example", MessageID: "ex@outside.example"}
	for _, u := range []string{calAnn, calBen} {
		rep, err := calendar.RemoveInviteEntries(ctx, tn, u, series)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(u, "removed:", len(rep.Removed), "kept:", len(rep.Kept))
		for _, d := range rep.Kept {
			fmt.Println("  kept because", d.Reason.Text())
		}
	}
	// Output:
	// ann@corp.example removed: 1 kept: 0
	// ben@corp.example removed: 0 kept: 1
	//   kept because imported by the user from an .ics file
}
