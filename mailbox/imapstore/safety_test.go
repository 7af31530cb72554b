package imapstore_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
)

// commands returns the client commands in traffic whose name matches re
// (tagged lines the client sent, e.g. "T12 UID MOVE 1:3 Junk").
func commands(traffic string, re string) []string {
	return regexp.MustCompile(`(?m)^T\d+ (`+re+`)\b.*$`).FindAllString(traffic, -1)
}

// mailState is every message of a folder with its flags, as a fresh
// session sees it.
type mailState map[imap.UID][]string

func folderState(t *testing.T, c *imapclient.Client, folder string) mailState {
	t.Helper()
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	require.NoError(t, err)
	out := mailState{}
	if sel.NumMessages == 0 {
		return out
	}
	msgs, err := c.Fetch(seqAll(), &imap.FetchOptions{UID: true, Flags: true}).Collect()
	require.NoError(t, err)
	for _, m := range msgs {
		var flags []string
		for _, f := range m.Flags {
			flags = append(flags, string(f))
		}
		slices.Sort(flags)
		out[m.UID] = flags
	}
	return out
}

// TestRefusesWithoutUIDPLUSOrMOVE shows that a server lacking UIDPLUS (or
// MOVE) gets a refusal wrapping ErrUnsupported before anything is
// touched: every message and every \Deleted flag stays as it was, and no
// COPY, STORE, MOVE or EXPUNGE is ever sent. Without UIDPLUS, go-imap's
// Move would fall back to COPY + STORE \Deleted + EXPUNGE, and that
// EXPUNGE would also remove the message the owner had marked \Deleted.
func TestRefusesWithoutUIDPLUSOrMOVE(t *testing.T) {
	for _, tc := range []struct {
		name          string
		drop          imap.Cap
		moveRefused   bool
		expungeRefuse bool
	}{
		{"no UIDPLUS", imap.CapUIDPlus, true, true},
		{"no MOVE", imap.CapMove, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			owner := "alice@example.com"
			caps := fullCaps()
			delete(caps, tc.drop)
			srv := startMem(t, caps, owner)
			var traffic servertest.Buffer
			store := srv.store(t, []string{owner}, func(c *imapstore.Config) { c.DebugWriter = &traffic })

			// Seed with a plain client: Append needs UIDPLUS too.
			c := client(t, srv.Addr, owner, srv.Passwords[owner])
			for i := range 6 {
				raw := rawMessage(fmt.Sprintf("m%d@example.com", i), "x@evil.example", owner, "campaign")
				cmd := c.Append("INBOX", int64(len(raw)), nil)
				_, err := cmd.Write(raw)
				require.NoError(t, err)
				require.NoError(t, cmd.Close())
				_, err = cmd.Wait()
				require.NoError(t, err)
			}
			// The owner marked one message \Deleted in their client.
			_, err := c.Select("INBOX", nil).Wait()
			require.NoError(t, err)
			require.NoError(t, c.Store(imap.UIDSetNum(6), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close())
			require.NoError(t, c.Unselect().Wait())
			before := folderState(t, c, "INBOX")
			require.Len(t, before, 6)

			// The store still searches (read-only).
			hits := collect(t, store, owner, mailbox.Criteria{Senders: []string{"x@evil.example"}})
			require.Len(t, hits, 6)
			targets := []mailbox.Address{hits[0].Address, hits[2].Address}
			traffic.Reset()

			moved, err := store.Move(context.Background(), targets, mailbox.In(mailbox.RoleJunk))
			if tc.moveRefused {
				require.ErrorIs(t, err, mailbox.ErrUnsupported)
				assert.Contains(t, err.Error(), string(tc.drop))
				assert.Nil(t, moved)
			}
			errs, err := store.Expunge(context.Background(), targets)
			if tc.expungeRefuse {
				require.ErrorIs(t, err, mailbox.ErrUnsupported)
				assert.Contains(t, err.Error(), "UIDPLUS")
				assert.Nil(t, errs)
			} else {
				require.NoError(t, err)
				assert.Equal(t, []error{nil, nil}, errs)
			}

			after := folderState(t, c, "INBOX")
			if tc.expungeRefuse {
				assert.Equal(t, before, after, "nothing changed: messages and flags")
				assert.Empty(t, commands(traffic.String(), `(UID )?(COPY|MOVE|STORE|EXPUNGE)`), "no changing command was sent")
			} else {
				// UID EXPUNGE removed the two targets and nothing else:
				// the owner's \Deleted message stays.
				want := mailState{}
				for uid, flags := range before {
					if uid != imap.UID(targets[0].UID) && uid != imap.UID(targets[1].UID) {
						want[uid] = flags
					}
				}
				assert.Equal(t, want, after)
				assert.Contains(t, after[6], `\Deleted`, "the owner's own \\Deleted message stays")
				assert.Empty(t, commands(traffic.String(), `(UID )?(COPY|MOVE)`))
				assert.Empty(t, commands(traffic.String(), `EXPUNGE`), "never a plain EXPUNGE")
				assert.NotEmpty(t, commands(traffic.String(), `UID EXPUNGE`))
			}
			junk := folderState(t, c, "Junk")
			assert.Empty(t, junk, "nothing was copied to Junk")
		})
	}
}

// TestAppendNeedsUIDPLUS checks that Append, which must return the new
// copy's address (APPENDUID), refuses a server without UIDPLUS.
func TestAppendNeedsUIDPLUS(t *testing.T) {
	owner := "bob@example.com"
	caps := fullCaps()
	delete(caps, imap.CapUIDPlus)
	srv := startMem(t, caps, owner)
	store := srv.store(t, []string{owner}, nil)
	_, err := store.Append(context.Background(), owner, mailbox.In(mailbox.RoleInbox), rawMessage("a@b", "a@b.example", owner, "x"), nil)
	require.ErrorIs(t, err, mailbox.ErrUnsupported)
	c := client(t, srv.Addr, owner, srv.Passwords[owner])
	assert.Empty(t, folderState(t, c, "INBOX"))
}
