package imapstore_test

import (
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/dovecot"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// TestSearchFindsMailDeliveredOutsideDovecot puts a copy in the new/ of an
// empty Junk, as a delivery program other than Dovecot would, on a Dovecot
// with its very dirty syncs: STATUS still counts no message there, and the
// search must find the copy all the same.
func TestSearchFindsMailDeliveredOutsideDovecot(t *testing.T) {
	d := startDovecot(t, &dovecot.Options{VeryDirtySyncs: true})
	owner := d.newUsers(t, 1)[0]
	s := d.store(t, []string{owner}, nil)
	c := mailbox.Criteria{MessageIDs: []string{"late-7731@evil-campaign.example"}}
	assert.Empty(t, collect(t, s, owner, c))

	raw := rawMessage("late-7731@evil-campaign.example", "x@evil-campaign.example", owner, "late")
	require.NoError(t, d.srv.WriteMaildir(owner, "Junk", [][]byte{raw}))
	st, err := d.masterClient(t, owner).Status("Junk", &imap.StatusOptions{NumMessages: true}).Wait()
	require.NoError(t, err)
	require.NotNil(t, st.NumMessages)
	require.Zero(t, *st.NumMessages, "precondition: Dovecot's STATUS misses the delivery")

	got := collect(t, s, owner, c)
	require.Len(t, got, 1)
	assert.Equal(t, "Junk", got[0].Address.Folder)
}
