package imapstore

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
)

func testPrefilter(t *testing.T, mod func(*Config)) *prefilter {
	t.Helper()
	cfg := Config{Addr: "h:1", Master: &MasterUser{User: "m"}, Mailboxes: []string{"owner@example.com"}}
	if mod != nil {
		mod(&cfg)
	}
	require.NoError(t, cfg.normalize())
	return &prefilter{cfg: &cfg, owner: "owner@example.com"}
}

// headerValues returns every (key, value) in a search tree.
func headerValues(sc *imap.SearchCriteria) []string {
	var out []string
	for _, h := range sc.Header {
		out = append(out, h.Key+"="+h.Value)
	}
	for _, b := range sc.Body {
		out = append(out, "BODY="+b)
	}
	for i := range sc.Or {
		out = append(out, headerValues(&sc.Or[i][0])...)
		out = append(out, headerValues(&sc.Or[i][1])...)
	}
	return out
}

func TestPlan(t *testing.T) {
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("<id-%d@example.com>", i)
	}
	for _, tc := range []struct {
		name   string
		c      mailbox.Criteria
		mod    func(*Config)
		all    bool
		plans  int
		values []string // every key=value over all plans, in order
	}{
		{name: "one id without brackets", c: mailbox.Criteria{MessageIDs: []string{" <a@b.example> "}}, plans: 1,
			values: []string{"Message-ID=a@b.example"}},
		{name: "sender matches P1 or P2", c: mailbox.Criteria{Senders: []string{"<Eve@Evil.example>"}}, plans: 1,
			values: []string{"From=eve@evil.example", "Return-Path=eve@evil.example"}},
		{name: "domain", c: mailbox.Criteria{SenderDomains: []string{"@evil.example."}}, plans: 1,
			values: []string{"From=evil.example", "Return-Path=evil.example"}},
		{name: "recipient", c: mailbox.Criteria{Recipients: []string{"carol@example.org"}}, plans: 1,
			values: []string{"To=carol@example.org", "Cc=carol@example.org", "Bcc=carol@example.org"}},
		{name: "owner as recipient matches everything in the mailbox", c: mailbox.Criteria{Recipients: []string{"OWNER@example.com", "x@y.example"}}, all: true},
		{name: "subject and sender: the subject is verified, not searched", c: mailbox.Criteria{Subject: "Invoice", Senders: []string{"a@b.example"}}, plans: 1,
			values: []string{"From=a@b.example", "Return-Path=a@b.example"}},
		{name: "subject alone cannot narrow", c: mailbox.Criteria{Subject: "Invoice"}, all: true},
		{name: "URL alone cannot narrow by default", c: mailbox.Criteria{URLs: []string{"https://evil.example/x"}}, all: true},
		{name: "URL host with ServerURLSearch", c: mailbox.Criteria{URLs: []string{"https://Evil.example/x"}},
			mod: func(c *Config) { c.ServerURLSearch = true }, plans: 1, values: []string{"BODY=evil.example"}},
		{name: "Safe Links criterion searches the host of the link it wraps", c: mailbox.Criteria{URLs: []string{
			"https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2FEvil.example%2Fx&data=1"}},
			mod: func(c *Config) { c.ServerURLSearch = true }, plans: 1, values: []string{"BODY=evil.example"}},
		{name: "or with an unnarrowable branch", c: mailbox.Criteria{Or: []mailbox.Criteria{
			{Senders: []string{"a@b.example"}}, {AttachmentSHA256: []string{strings.Repeat("a", 64)}}}}, all: true},
		{name: "and with an unnarrowable member still narrows", c: mailbox.Criteria{And: []mailbox.Criteria{
			{Senders: []string{"a@b.example"}}, {AttachmentSHA256: []string{strings.Repeat("a", 64)}}}}, plans: 1,
			values: []string{"From=a@b.example", "Return-Path=a@b.example"}},
		{name: "1000 ids in 4 commands", c: mailbox.Criteria{MessageIDs: ids}, plans: 4},
		{name: "1000 ids nested in And", c: mailbox.Criteria{And: []mailbox.Criteria{{MessageIDs: ids}, {Subject: "x"}}}, plans: 4},
		{name: "1000 ids across Or members", c: mailbox.Criteria{Or: []mailbox.Criteria{{MessageIDs: ids[:500]}, {MessageIDs: ids[500:]}}}, plans: 4},
		{name: "one id longer than a command", c: mailbox.Criteria{MessageIDs: []string{strings.Repeat("x", 60<<10) + "@example.com"}}, all: true},
		{name: "byte limit splits", c: mailbox.Criteria{MessageIDs: []string{strings.Repeat("a", 20<<10), strings.Repeat("b", 20<<10), strings.Repeat("c", 20<<10)}}, plans: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.c.Validate())
			p := testPrefilter(t, tc.mod)
			plans, all := p.plan(&tc.c)
			assert.Equal(t, tc.all, all)
			if tc.all {
				assert.Empty(t, plans)
				return
			}
			require.Equal(t, tc.plans, len(plans))
			var values []string
			for i := range plans {
				keys, size := cost(&plans[i])
				assert.LessOrEqual(t, keys, 300)
				assert.LessOrEqual(t, size, 48<<10)
				values = append(values, headerValues(&plans[i])...)
			}
			if tc.values != nil {
				assert.Equal(t, tc.values, values)
			}
			if len(tc.c.MessageIDs) == len(ids) {
				// The plans cover every id exactly once.
				seen := map[string]int{}
				for _, v := range values {
					seen[v]++
				}
				for _, id := range ids {
					assert.Equal(t, 1, seen["Message-ID="+strings.Trim(id, "<>")], id)
				}
			}
		})
	}
}

func TestPlanDatesWiden(t *testing.T) {
	p := testPrefilter(t, nil)
	c := mailbox.Criteria{Senders: []string{"a@b.example"}, Since: time.Date(2024, 3, 10, 23, 0, 0, 0, time.FixedZone("", -5*3600)),
		Before: time.Date(2024, 3, 12, 1, 0, 0, 0, time.UTC)}
	plans, all := p.plan(&c)
	require.False(t, all)
	require.Len(t, plans, 1)
	var since, before []time.Time
	unreadable := 0
	var walk func(sc *imap.SearchCriteria)
	walk = func(sc *imap.SearchCriteria) {
		for _, tm := range []time.Time{sc.Since, sc.SentSince} {
			if !tm.IsZero() {
				since = append(since, tm)
			}
		}
		for _, tm := range []time.Time{sc.Before, sc.SentBefore} {
			if !tm.IsZero() {
				before = append(before, tm)
			}
		}
		for _, n := range sc.Not {
			if !n.SentSince.IsZero() && n.SentSince.Year() == 1971 {
				unreadable++ // a Date the server cannot read
			}
		}
		for i := range sc.Or {
			walk(&sc.Or[i][0])
			walk(&sc.Or[i][1])
		}
	}
	walk(&plans[0])
	assert.Equal(t, 1, unreadable, "NOT SENTSINCE 1971: a Date the server reads as 1970")
	// Since is 2024-03-11 04:00 UTC: search from the 10th. Before is the
	// 12th at 01:00 UTC: search before the 14th.
	for _, tm := range since {
		assert.Equal(t, time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC), tm)
	}
	for _, tm := range before {
		assert.Equal(t, time.Date(2024, 3, 14, 0, 0, 0, 0, time.UTC), tm)
	}
	assert.Len(t, since, 2, "SENTSINCE or SINCE (missing Date header)")
	assert.Len(t, before, 2)
}
