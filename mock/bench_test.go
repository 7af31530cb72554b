package mock_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
)

// benchMessage is a typical small phishing message.
func benchMessage(i int) []byte {
	return []byte(fmt.Sprintf("Return-Path: <bounce%d@mailer.example>\r\n"+
		"From: \"IT Service Desk\" <helpdesk@phish.example>\r\n"+
		"To: undisclosed-recipients:;\r\n"+
		"Subject: Action required: mailbox quota %d\r\n"+
		"Date: Mon, 04 Mar 2024 09:00:00 +0000\r\n"+
		"Message-ID: <quota-%d@phish.example>\r\n"+
		"MIME-Version: 1.0\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"\r\n"+
		"Your mailbox is full. Verify your account at https://phish.example/verify?id=%d\r\n", i, i, i, i))
}

func benchUsers(n int) []string {
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("user%05d@tenant.example", i)
	}
	return users
}

// loadTenant makes a tenant of mailboxes users, each with perMailbox copies
// in INBOX, delivered perDelivery recipients at a time.
func loadTenant(tb testing.TB, mailboxes, perMailbox, perDelivery int) (*mock.Tenant, []string) {
	tb.Helper()
	ctx := context.Background()
	users := benchUsers(mailboxes)
	tenant := mock.New(nil)
	for _, u := range users {
		require.NoError(tb, tenant.AddUser(u))
	}
	total := mailboxes * perMailbox
	rcpts := make([]string, perDelivery)
	for d := 0; d*perDelivery < total; d++ {
		for i := range rcpts {
			rcpts[i] = users[(d*perDelivery+i)%mailboxes]
		}
		_, err := tenant.Deliver(ctx, benchMessage(d), &mock.DeliverOptions{Recipients: rcpts})
		require.NoError(tb, err)
	}
	return tenant, users
}

// BenchmarkDeliver measures delivery of one message to 100 recipients.
func BenchmarkDeliver(b *testing.B) {
	ctx := context.Background()
	users := benchUsers(100)
	tenant := mock.New(nil)
	for _, u := range users {
		require.NoError(b, tenant.AddUser(u))
	}
	raw := benchMessage(1)
	opts := &mock.DeliverOptions{Recipients: users}
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		got, err := tenant.Deliver(ctx, raw, opts)
		if err != nil || len(got) != len(users) {
			b.Fatalf("deliver: %d copies, %v", len(got), err)
		}
		n += len(got)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "copies/s")
}

// BenchmarkSoftDelete loads mailboxes×100 copies, reports the heap a copy
// costs, then moves every copy to recoverable items and back, one Move per
// mailbox, as the remediation engine's soft delete does.
func BenchmarkSoftDelete(b *testing.B) {
	for _, mailboxes := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("copies=%d", mailboxes*100), func(b *testing.B) {
			ctx := context.Background()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			tenant, users := loadTenant(b, mailboxes, 100, 100)
			runtime.GC()
			runtime.ReadMemStats(&after)
			copies := mailboxes * 100
			heapPerCopy := float64(after.HeapAlloc-before.HeapAlloc) / float64(copies)

			batches := make([][]mailbox.Address, len(users))
			for i, u := range users {
				for m, err := range tenant.Search(ctx, u, mailbox.Criteria{SenderDomains: []string{"phish.example"}}) {
					require.NoError(b, err)
					batches[i] = append(batches[i], m.Address)
				}
				require.Len(b, batches[i], 100)
			}
			dest := []mailbox.Location{mailbox.In(mailbox.RoleRecoverable), mailbox.In(mailbox.RoleInbox)}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			moved := 0
			for i := 0; i < b.N; i++ {
				for j, batch := range batches {
					res, err := tenant.Move(ctx, batch, dest[i%2])
					if err != nil {
						b.Fatal(err)
					}
					for k := range res {
						if res[k].Err != nil {
							b.Fatal(res[k].Err)
						}
						batch[k] = res[k].To
					}
					batches[j] = batch
					moved += len(res)
				}
			}
			b.ReportMetric(float64(moved)/time.Since(start).Seconds(), "copies/s")
			b.ReportMetric(heapPerCopy, "heapB/copy")
			runtime.KeepAlive(tenant)
		})
	}
}
