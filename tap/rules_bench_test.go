package tap_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/tap"
)

// hundredCriteria are 100 detection criteria of every kind, which the
// benchmark's mail does not match: the tap evaluates all of them for
// every message.
func hundredCriteria() []mailbox.Criteria {
	var cs []mailbox.Criteria
	for i := 0; len(cs) < 100; i++ {
		switch i % 5 {
		case 0:
			cs = append(cs, mailbox.Criteria{SenderDomains: []string{fmt.Sprintf("evil-%d.example", i)}})
		case 1:
			cs = append(cs, mailbox.Criteria{Subject: fmt.Sprintf("invoice overdue %d", i)})
		case 2:
			cs = append(cs, mailbox.Criteria{URLs: []string{fmt.Sprintf("https://login-%d.evil.example/reset", i)}})
		case 3:
			cs = append(cs, mailbox.Criteria{AttachmentSHA256: []string{fmt.Sprintf("%064x", i)}})
		case 4:
			cs = append(cs, mailbox.Criteria{Senders: []string{fmt.Sprintf("ceo-%d@evil.example", i)}, Subject: "wire transfer"})
		}
	}
	return cs
}

// hundredRules returns a decider evaluating 100 criteria exactly against
// each message, and the number of rules.
func hundredRules(b *testing.B) (tap.Decider, int) {
	cs := hundredCriteria()
	for i := range cs {
		if err := cs[i].ValidateSelection(); err != nil {
			b.Fatal(err)
		}
	}
	return tap.DeciderFunc(func(_ context.Context, d *tap.Delivery, rc tap.Recipient) (tap.Decision, error) {
		m := d.Parsed.Summary()
		m.Address = mailbox.Address{Mailbox: rc.Owner, Folder: "INBOX"}
		m.Role = mailbox.RoleInbox
		content := func() (*mailbox.Parsed, error) { return d.Parsed, nil }
		for i := range cs {
			ok, err := cs[i].Match(&m, content)
			if err != nil {
				return tap.Decision{}, err
			}
			if ok {
				return tap.Decision{Verdict: tap.Quarantine, Rule: fmt.Sprintf("rule-%d", i)}, nil
			}
		}
		return tap.Decision{}, nil
	}), len(cs)
}
