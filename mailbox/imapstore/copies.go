package imapstore

import (
	"context"
	"fmt"
	"iter"
	"slices"

	"github.com/emersion/go-imap/v2"

	"github.com/eradicate-dev/eradicate/mailbox"
)

var _ mailbox.CopySearcher = (*Store)(nil)

// SearchCopies implements [mailbox.CopySearcher]: per folder of addrs, it
// checks the folder's UIDVALIDITY (EXAMINE) and that every copy is there
// (UID SEARCH UID), then verifies the copies as [Store.Search] verifies a
// server search's hits (their header fields, and their content when c
// needs it).
func (s *Store) SearchCopies(ctx context.Context, mbox string, c mailbox.Criteria, addrs []mailbox.Address) iter.Seq2[mailbox.Message, error] {
	return func(yield func(mailbox.Message, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(mailbox.Message{}, ctxErr(err))
			return
		}
		if err := c.Validate(); err != nil {
			yield(mailbox.Message{}, fmt.Errorf("imapstore: %w", err))
			return
		}
		owner, err := s.owner(ctx, mbox)
		if err != nil {
			yield(mailbox.Message{}, err)
			return
		}
		type key struct {
			folder      string
			uidValidity uint32
		}
		var order []key
		sets := map[key]*imap.UIDSet{}
		for _, a := range addrs {
			k := key{a.Folder, a.UIDValidity}
			if sets[k] == nil {
				sets[k] = &imap.UIDSet{}
				order = append(order, k)
			}
			sets[k].AddNum(imap.UID(a.UID))
		}
		var found []mailbox.Message
		err = s.withConn(ctx, owner, func(cn *conn) error {
			fs, err := s.listFolders(cn)
			if err != nil {
				return err
			}
			for _, k := range order {
				i := slices.IndexFunc(fs.list, func(f folder) bool { return f.Name == k.folder })
				if i < 0 {
					return fmt.Errorf("imapstore: folder %q of %q: %w: %w", k.folder, cn.owner, mailbox.ErrNotFound, mailbox.ErrNoFolder)
				}
				f := fs.list[i]
				if _, err := s.selectFolder(cn, f.Name, true, k.uidValidity); err != nil {
					return err
				}
				set := *sets[k]
				want, _ := set.Nums()
				res, err := cn.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
				var have []imap.UID
				if err == nil {
					have, err = resultUIDs(res)
				}
				if err != nil {
					return fmt.Errorf("imapstore: search %q of %q: %w", f.Name, cn.owner, err)
				}
				if len(have) != len(want) {
					return fmt.Errorf("imapstore: %d of %d copies in %q of %q are gone: %w", len(want)-len(have), len(want), f.Name, cn.owner, mailbox.ErrNotFound)
				}
				if !c.MatchFolder(f.Name, f.Role) {
					continue
				}
				msgs, err := s.verifyFolder(cn, hits{f: f, uidValidity: k.uidValidity, set: set}, &c, nil, nil)
				if err != nil {
					return err
				}
				found = append(found, msgs...)
			}
			return nil
		})
		if err != nil {
			yield(mailbox.Message{}, err)
			return
		}
		for _, m := range found {
			if !yield(m, nil) {
				return
			}
		}
	}
}
