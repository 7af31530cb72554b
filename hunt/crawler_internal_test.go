package hunt

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/eradicate-dev/eradicate/mailbox"
)

func TestDeliveredAt(t *testing.T) {
	start := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	date := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	recv := "from mx.corp.example by mail.corp.example with LMTP; Sat, 21 Nov 2026 10:00:00 +0000"
	for _, tc := range []struct {
		name string
		p    mailbox.Parsed
		want time.Time
	}{
		{"received", mailbox.Parsed{Date: date, Received: []string{recv, "from x; Fri, 20 Nov 2026 09:00:01 +0000"}}, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)},
		{"date when no Received", mailbox.Parsed{Date: date}, date},
		{"date when Received unreadable", mailbox.Parsed{Date: date, Received: []string{"from x by y; yesterday"}}, date},
		{"Received in the future", mailbox.Parsed{Date: date, Received: []string{"from x; Mon, 30 Nov 2026 10:00:00 +0000"}}, date},
		{"Date in the future", mailbox.Parsed{Date: start.Add(time.Hour)}, start},
		{"nothing", mailbox.Parsed{}, start},
	} {
		assert.True(t, tc.want.Equal(deliveredAt(&tc.p, start)), "%s: %v", tc.name, deliveredAt(&tc.p, start))
	}
}
