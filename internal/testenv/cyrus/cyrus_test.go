package cyrus_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/cyrus"
)

func folderNames(t *testing.T, list []*imap.ListData) []string {
	t.Helper()
	var out []string
	for _, l := range list {
		out = append(out, l.Mailbox)
	}
	return out
}

func TestStart(t *testing.T) {
	srv := cyrus.Start(t, &cyrus.Options{Users: map[string]string{"alice@example.com": "pw-alice", "bob": "pw-bob"}})
	require.Equal(t, []string{"alice@example.com", "bob"}, srv.UserNames())

	for _, u := range srv.UserNames() {
		t.Run(u, func(t *testing.T) {
			// The user sees their own folders with SPECIAL-USE, not the
			// admin-only ones, and cannot open them.
			c := srv.Dial(t, u, srv.Users[u])
			list, err := c.List("", "*", &imap.ListOptions{ReturnSpecialUse: true}).Collect()
			require.NoError(t, err)
			names := folderNames(t, list)
			assert.ElementsMatch(t, []string{"INBOX", "Drafts", "Sent", "Junk", "Trash"}, names)
			for _, l := range list {
				if l.Mailbox == "Sent" {
					assert.Contains(t, l.Attrs, imap.MailboxAttrSent)
				}
			}
			for _, f := range []string{cyrus.QuarantineFolder, cyrus.RecoverableFolder, cyrus.EvidenceFolder} {
				_, err := c.Select(f, nil).Wait()
				require.Error(t, err, "the user opened %s", f)
				err = c.SetACL(f, imap.RightsIdentifier(u), imap.RightModificationReplace, imap.RightSet(cyrus.AdminRights)).Wait()
				require.Error(t, err, "the user gave themselves rights on %s", f)
			}

			// The admin reaches every folder of the user, the admin-only
			// ones included, by their names in the other users' namespace.
			a := srv.Dial(t, srv.AdminUser, srv.AdminPassword)
			for _, f := range []string{"INBOX", "Sent", cyrus.QuarantineFolder, cyrus.RecoverableFolder, cyrus.EvidenceFolder} {
				_, err := a.Select(srv.AdminFolder(u, f), nil).Wait()
				require.NoError(t, err, "the admin opens %s", f)
			}

			// The user's calendar home has the default calendar.
			req, err := http.NewRequestWithContext(context.Background(), "PROPFIND", srv.URL+strings.TrimPrefix(srv.CalendarHome(u), "/"), nil)
			require.NoError(t, err)
			req.SetBasicAuth(u, srv.Users[u])
			req.Header.Set("Depth", "1")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusMultiStatus, resp.StatusCode)
			assert.Contains(t, string(body), srv.CalendarHome(u)+"Default/")
		})
	}

	// A wrong password is refused.
	c, err := imapclient.DialInsecure(srv.Addr, nil)
	require.NoError(t, err)
	defer c.Close()
	require.Error(t, c.Login("bob", "wrong").Wait())
}

func TestAddUserAndChangeUIDValidity(t *testing.T) {
	srv := cyrus.Start(t, &cyrus.Options{Users: map[string]string{}})
	ctx := context.Background()
	require.NoError(t, srv.AddUser(ctx, "dave@example.org", "pw-dave"))
	require.NoError(t, srv.Dial(t, "dave@example.org", "pw-dave").Create("Projects", nil).Wait())
	a := srv.Dial(t, srv.AdminUser, srv.AdminPassword)
	for _, folder := range []string{"INBOX", "Projects"} {
		mb := srv.AdminFolder("dave@example.org", folder)
		raw := "Subject: x\r\nMessage-ID: <" + folder + "@example.org>\r\n\r\nhi\r\n"
		cmd := a.Append(mb, int64(len(raw)), nil)
		_, err := io.WriteString(cmd, raw)
		require.NoError(t, err)
		require.NoError(t, cmd.Close())
		appended, err := cmd.Wait()
		require.NoError(t, err)
		before, err := a.Status(mb, &imap.StatusOptions{UIDValidity: true, NumMessages: true}).Wait()
		require.NoError(t, err)

		require.NoError(t, srv.ChangeUIDValidity(ctx, "dave@example.org", folder), folder)
		after, err := a.Status(mb, &imap.StatusOptions{UIDValidity: true, NumMessages: true}).Wait()
		require.NoError(t, err)
		assert.NotEqual(t, before.UIDValidity, after.UIDValidity, folder)
		assert.Equal(t, *before.NumMessages, *after.NumMessages, folder)
		_, err = a.Select(mb, &imap.SelectOptions{ReadOnly: true}).Wait()
		require.NoError(t, err)
		body := &imap.FetchItemBodySection{Peek: true}
		msgs, err := a.Fetch(imap.UIDSetNum(appended.UID), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{body}}).Collect()
		require.NoError(t, err)
		require.Len(t, msgs, 1, "%s: the message keeps its UID", folder)
		assert.Equal(t, raw, string(msgs[0].FindBodySection(body)), folder)
		require.NoError(t, a.Unselect().Wait())
	}
	require.Error(t, srv.ChangeUIDValidity(ctx, "nobody@example.org", "INBOX"))
}
