package remediation_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// TestJournalBytesPerCopy checks the compact encoding on a real action:
// intents and outcomes of a soft delete cost at most 40 bytes per copy.
func TestJournalBytesPerCopy(t *testing.T) {
	f := newFixture(t)
	var users []string
	for i := range 40 {
		u := fmt.Sprintf("user%02d@corp.example", i)
		require.NoError(t, f.tenant.AddUser(u))
		users = append(users, u)
	}
	for _, id := range ids("bpc", 50) {
		f.deliver(msg(id, "evil@bad.example", "Invoice", "undisclosed-recipients:;"), "", users...)
	}
	j := journal.NewMemory()
	e := f.engine(j, nil)
	rec, err := e.Execute(context.Background(), remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Confirm: true,
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"bad.example"}}}})
	require.NoError(t, err)
	require.Equal(t, int64(2000), rec.Counts.Succeeded)
	perCopy := float64(j.Size()) / 2000
	t.Logf("journal: %d bytes, %.1f B/copy", j.Size(), perCopy)
	assert.LessOrEqual(t, perCopy, 40.0)
}
