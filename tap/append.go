package tap

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-smtp"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Append returns a [Downstream] that stores each message with
// [mailbox.Store.Append] in the recipient owner's mailbox: the inbox,
// Junk or the quarantine folder as the verdict says. It fits a store in
// the same process (the in-memory tenant of tests and examples) and a
// mail server reached over IMAP only; unlike a delivery over LMTP it runs
// no filters of the mail server. Like a final delivery agent (RFC 5321,
// section 4.4) it puts a Return-Path with the envelope sender on top of
// the stored message, so that a later reader of the mailbox (the events
// index's crawler) sees the same envelope sender the tap saw. An owner
// without a mailbox is refused permanently (550 5.1.1); any other failure
// is temporary.
func Append(store mailbox.Store) Downstream { return appendDownstream{store} }

type appendDownstream struct{ store mailbox.Store }

var errNoMailbox = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox"}

func (a appendDownstream) Deliver(ctx context.Context, env *Envelope, msg []byte) []error {
	out := make([]error, len(env.To))
	msg = append([]byte("Return-Path: <"+env.From+">\r\n"), msg...)
	for i, t := range env.To {
		role := mailbox.RoleInbox
		switch t.Verdict {
		case Quarantine:
			role = mailbox.RoleQuarantine
		case Junk:
			role = mailbox.RoleJunk
		}
		_, err := a.store.Append(ctx, t.Owner, mailbox.In(role), msg, nil)
		switch {
		case err == nil:
		case errors.Is(err, mailbox.ErrNoMailbox):
			out[i] = errNoMailbox
		default:
			out[i] = fmt.Errorf("tap: append for %s: %w", t.Owner, err)
		}
	}
	return out
}
