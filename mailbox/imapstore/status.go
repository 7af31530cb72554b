package imapstore

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/eradicate-dev/eradicate/mailbox"
)

var _ mailbox.FolderStater = (*Store)(nil)

// FolderStatus returns the state of every folder of mailbox, from one
// LIST and one STATUS per folder (RFC 9051 section 6.3.11), pipelined;
// HIGHESTMODSEQ is asked for when the server has CONDSTORE (RFC 7162).
// No message is read and no folder is selected. It implements
// [mailbox.FolderStater].
//
// STATUS reports what the server's index knows: on a Dovecot configured
// with maildir_very_dirty_syncs, mail another program put in a maildir
// is not counted until the folder is next opened.
func (s *Store) FolderStatus(ctx context.Context, mbox string) ([]mailbox.FolderStatus, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxErr(err)
	}
	owner, err := s.owner(ctx, mbox)
	if err != nil {
		return nil, err
	}
	var out []mailbox.FolderStatus
	err = s.withConn(ctx, owner, func(cn *conn) error {
		// A server may answer STATUS of the selected folder from the
		// session's view, which lags behind changes other sessions made
		// (Dovecot does): leave the folder first.
		if cn.c.State() == imap.ConnStateSelected {
			cmd := cn.c.Noop()
			if caps := cn.c.Caps(); caps.Has(imap.CapUnselect) || caps.Has(imap.CapIMAP4rev2) {
				cmd = cn.c.Unselect()
			}
			cn.examined, cn.examinedValidity = "", 0
			if err := cmd.Wait(); err != nil {
				return fmt.Errorf("imapstore: status of %q: %w", owner, err)
			}
		}
		fs, err := s.listFolders(cn)
		if err != nil {
			return err
		}
		opts := &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true,
			HighestModSeq: cn.c.Caps().Has(imap.CapCondStore)}
		cmds := make([]*imapclient.StatusCommand, len(fs.list))
		for i, f := range fs.list {
			cmds[i] = cn.c.Status(f.Name, opts)
		}
		var firstErr error
		for i, cmd := range cmds {
			d, err := cmd.Wait()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("imapstore: status of %q of %q: %w", fs.list[i].Name, owner, err)
				}
				continue
			}
			st := mailbox.FolderStatus{Name: fs.list[i].Name, Role: fs.list[i].Role, UIDValidity: d.UIDValidity,
				UIDNext: uint32(d.UIDNext), HighestModSeq: d.HighestModSeq}
			if d.NumMessages != nil {
				st.Messages = *d.NumMessages
			}
			out = append(out, st)
		}
		return firstErr
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
