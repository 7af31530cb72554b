package imipproc_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar/imipproc"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// mailWith builds a message whose parts are the given (Content-Type,
// Content-Disposition, body) triples.
func mailWith(parts ...[3]string) []byte {
	var b strings.Builder
	b.WriteString("Message-ID: <m@x>\r\nFrom: a@x\r\nTo: b@x\r\nSubject: s\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n")
	for _, p := range parts {
		b.WriteString("--b1\r\nContent-Type: " + p[0] + "\r\n")
		if p[1] != "" {
			b.WriteString("Content-Disposition: " + p[1] + "\r\n")
		}
		b.WriteString("\r\n" + p[2])
	}
	b.WriteString("--b1--\r\n")
	return []byte(b.String())
}

func TestMessageInvitesOnlyWhatDeliveryApplies(t *testing.T) {
	const org = "organizer@outside.example"
	plain := strings.Replace(inviteICS("REQUEST", "u1", org, 0, nil), "METHOD:REQUEST\r\n", "", 1)
	publish := inviteICS("PUBLISH", "u2", org, 0, nil)
	request := inviteICS("REQUEST", "u3", org, 0, nil)
	cases := []struct {
		name    string
		raw     []byte
		uids    []string // of the invites returned
		applied []bool
	}{
		{"a plain .ics attachment is no invite", mailWith([3]string{"text/calendar; name=\"a.ics\"", "attachment; filename=\"a.ics\"", plain}), nil, nil},
		{"an inline part without METHOD is read, not applied", mailWith([3]string{"text/calendar", "", plain}), []string{"u1"}, []bool{false}},
		{"PUBLISH is not applied", mailWith([3]string{"text/calendar; method=PUBLISH", "", publish}), []string{"u2"}, []bool{false}},
		{"an inline REQUEST is applied; the attachment beside it is not read",
			mailWith([3]string{"text/calendar; method=REQUEST", "", request}, [3]string{"application/ics", "attachment; filename=\"b.ics\"", plain}),
			[]string{"u3"}, []bool{true}},
		{"an attachment naming a method, alone, is applied",
			mailWith([3]string{"text/calendar; method=REQUEST; name=\"i.ics\"", "attachment; filename=\"i.ics\"", request}), []string{"u3"}, []bool{true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := mailbox.Parse(tc.raw)
			require.NoError(t, err)
			var uids []string
			var applied []bool
			for _, mi := range imipproc.MessageInvites(p) {
				require.NoError(t, mi.Err)
				uids = append(uids, mi.Invite.UID)
				applied = append(applied, mi.Applied())
			}
			assert.Equal(t, tc.uids, uids)
			assert.Equal(t, tc.applied, applied)
		})
	}
}
