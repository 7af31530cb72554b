package tap_test

import (
	"fmt"
	"testing"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/rules"
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

// hundredRules returns the tap's decider over a rule set of 100
// quarantining rules (the criteria above), and the number of rules.
func hundredRules(b *testing.B) (tap.Decider, int) {
	eng, err := remediation.New(mock.New(nil), nil, journal.NewMemory(), nil)
	if err != nil {
		b.Fatal(err)
	}
	set := rules.New(eng, nil)
	for i, c := range hundredCriteria() {
		if err := set.Add(rules.Rule{Name: fmt.Sprintf("rule-%03d", i), Criteria: c, Action: remediation.Quarantine, Mode: rules.ModeExecute}); err != nil {
			b.Fatal(err)
		}
	}
	return tap.NewRules(eng, set, nil), len(set.Rules())
}

// BenchmarkRulesDecide is the tap's decision for one recipient of a real
// message against 100 rules, none matching (CPU only).
func BenchmarkRulesDecide(b *testing.B) {
	msgs := benchMessages(b, 50)
	dec, _ := hundredRules(b)
	ds := make([]*tap.Delivery, len(msgs))
	for i, raw := range msgs {
		p, _ := mailbox.Parse(raw)
		ds[i] = &tap.Delivery{Raw: raw, Parsed: p, From: "x@ext.test"}
	}
	rc := tap.Recipient{Address: "alice@corp.test", Owner: "alice@corp.test"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := dec.Decide(b.Context(), ds[i%len(ds)], rc); err != nil {
			b.Fatal(err)
		}
	}
}
