package sqlstore_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// FuzzIndexMessage indexes a message an attacker wrote and checks that
// hunts for what it carries find it: by its Message-ID, header sender,
// sender domain, recipient, subject, each URL and each attachment hash —
// as Criteria.Match would on the message the index holds. Whatever the
// message holds, the index stores it as data: nothing in it changes a
// query.
func FuzzIndexMessage(f *testing.F) {
	f.Add([]byte("Message-ID: <a'b\"c@x.example>\r\nFrom: \"O'Brien\" <o'brien@evil.example>\r\nTo: v@corp.example\r\nSubject: 100% off; DROP TABLE copies; --\r\n\r\nhttps://evil.example/%27;--?q=1'\r\n"))
	f.Add([]byte("From: a@b.example\r\nSubject: =?utf-8?b?w5xiZXI=?=\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"r%_.pdf\"\r\n\r\n%PDF-1.4 some bytes of a file that is long enough for a digest\r\n--x--\r\n"))
	f.Add([]byte("Message-ID: <>\r\nFrom: <>\r\nSubject: _%\\\r\n\r\nwww.Example.COM/a/../b https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil.example%2F_\r\n"))
	ctx := context.Background()
	s, err := sqlstore.OpenSQLite(ctx, filepath.Join(f.TempDir(), "index.db"), nil)
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	uid := uint32(0)
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, _ := mailbox.Parse(raw)
		if p == nil {
			return
		}
		m := hunt.NewMessage(p)
		uid++
		addr := mailbox.Address{Mailbox: "victim@corp.example", Folder: "INBOX", UIDValidity: 1, UID: uid}
		if err := s.Ingest(ctx, []hunt.Delivery{{Address: addr, Role: mailbox.RoleInbox, Message: m}}); err != nil {
			t.Fatalf("ingest: %v", err)
		}
		found := func(c mailbox.Criteria) bool {
			if c.Validate() != nil {
				return true // not a hunt anyone can run
			}
			for cp, err := range s.Copies(ctx, hunt.Query{Criteria: &c, Mailboxes: []string{addr.Mailbox}}) {
				if err != nil {
					t.Fatalf("hunt %+v: %v", c, err)
				}
				if cp.Address == addr {
					return true
				}
			}
			return false
		}
		// The message as the index holds it: an earlier input with the
		// same network id may have been indexed first.
		ent, err := s.Entity(ctx, m.NetworkID)
		if err != nil {
			t.Fatalf("entity: %v", err)
		}
		if ent.Message.NetworkID != m.NetworkID || len(ent.Copies) == 0 {
			t.Fatalf("entity view %+v of %s", ent, m.NetworkID)
		}
		m = ent.Message
		sum := mailbox.Message{Address: addr, Role: mailbox.RoleInbox, MessageID: m.MessageID, EnvelopeFrom: m.EnvelopeFrom,
			From: m.From, Recipients: m.Recipients, Subject: m.Subject, Date: m.Date, Size: m.Size}
		content := &mailbox.Parsed{URLs: m.URLs}
		for _, a := range m.Attachments {
			content.Attachments = append(content.Attachments, mailbox.Attachment{SHA256: a.SHA256})
		}
		var cs []mailbox.Criteria
		if m.MessageID != "" {
			cs = append(cs, mailbox.Criteria{MessageIDs: []string{m.MessageID}})
		}
		if m.From != "" {
			cs = append(cs, mailbox.Criteria{Senders: []string{m.From}})
			if d := mailbox.AddressDomain(m.From); strings.Contains(d, ".") {
				cs = append(cs, mailbox.Criteria{SenderDomains: []string{d}})
			}
		}
		for _, r := range m.Recipients {
			cs = append(cs, mailbox.Criteria{Subject: "x", Or: []mailbox.Criteria{{Recipients: []string{r}}}})
		}
		if len(m.Subject) > 2 {
			cs = append(cs, mailbox.Criteria{Subject: m.Subject[1 : len(m.Subject)-1]})
		}
		for _, u := range m.URLs {
			cs = append(cs, mailbox.Criteria{URLs: []string{u}})
		}
		for _, a := range m.Attachments {
			cs = append(cs, mailbox.Criteria{AttachmentSHA256: []string{a.SHA256}})
		}
		for _, c := range cs {
			// The index must answer as Criteria.Match does on the same
			// message.
			want, err := c.Match(&sum, func() (*mailbox.Parsed, error) { return content, nil })
			if err != nil {
				t.Fatal(err)
			}
			if got := found(c); got != want {
				t.Fatalf("hunt %+v: index %v, Criteria.Match %v", c, got, want)
			}
		}
		first := hunt.NewMessage(p)
		if first.NetworkID == m.NetworkID && (!slices.Equal(first.URLs, m.URLs) || len(first.Attachments) != len(m.Attachments)) {
			t.Fatalf("one network id for messages with different URLs or attachments: %+v and %+v", first, m)
		}
	})
}
