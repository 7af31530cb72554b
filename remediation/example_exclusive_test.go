package remediation_test

import (
	"context"
	"fmt"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// A caller that decides from the action center whether to act (here: not
// twice on one message) makes the check and the action one step with
// Exclusive, so that engines sharing the journal do not both act.
func ExampleEngine_Exclusive() {
	ctx := context.Background()
	tenant := exampleTenant()
	e, _ := remediation.New(tenant, tenant, journal.NewMemory(), nil)
	const id = "phish-1@evil.example"

	actOnce := func() error {
		return e.Exclusive(ctx, []string{"message:" + id}, func() error {
			for r, err := range e.Query(ctx, remediation.Filter{}) {
				if err != nil {
					return err
				}
				if c := r.Selection.Criteria; c != nil && len(c.MessageIDs) == 1 && c.MessageIDs[0] == id {
					fmt.Println("already acted on:", r.Status)
					return nil
				}
			}
			rec, err := e.Execute(ctx, remediation.Request{
				Action:    remediation.SoftDelete,
				Actor:     "responder",
				Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{id}}},
			})
			if err != nil {
				return err
			}
			fmt.Println(rec.Status, rec.Counts.Succeeded)
			return nil
		})
	}
	fmt.Println("shared journal:", e.Shared())
	_ = actOnce()
	_ = actOnce()
	// Output:
	// shared journal: false
	// completed 2
	// already acted on: completed
}
