package imapstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"

	"github.com/eradicate-dev/eradicate/mailbox"
)

var _ mailbox.BatchFetcher = (*Store)(nil)

// FetchMany reads the raw messages at addrs, all of one mailbox, and calls
// fn once for each distinct address. It implements [mailbox.BatchFetcher]:
// per folder one EXAMINE, then one UID FETCH BODY.PEEK[] per batch of at
// most 500 messages and about 8 MiB (estimated from the messages read
// before), each message handed to fn as it arrives, in one reused buffer
// (a message over 1 MiB gets its own). Folders come in the order of their
// first address, messages within a folder by UID. A copy the server does
// not return is reported with an error wrapping [mailbox.ErrNotFound]; a
// folder that is gone likewise; a folder whose UIDVALIDITY changed gives
// each of its copies an error wrapping [mailbox.ErrUIDValidity], as does
// an address with UIDVALIDITY 0.
//
// fn runs while a connection of the mailbox is held: it must not call the
// store.
func (s *Store) FetchMany(ctx context.Context, addrs []mailbox.Address, fn func(addr mailbox.Address, raw []byte, err error) error) error {
	if err := ctx.Err(); err != nil {
		return ctxErr(err)
	}
	if len(addrs) == 0 {
		return nil
	}
	owner, err := s.oneOwner(ctx, addrs)
	if err != nil {
		return err
	}
	order, byFolder := group(addrs, func(int) {})
	var fnErr error
	call := func(a mailbox.Address, raw []byte, err error) bool {
		if fnErr == nil {
			fnErr = fn(a, raw, err)
		}
		return fnErr == nil
	}
	err = s.withConn(ctx, owner, func(cn *conn) error {
		for _, g := range order {
			if err := ctx.Err(); err != nil {
				return ctxErr(err)
			}
			ts := byFolder[g]
			if err := s.fetchFolder(cn, ts, call); err != nil || fnErr != nil {
				return err
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// fetchFolder reads the copies of one folder (one UIDVALIDITY) for
// FetchMany. call reports false when the caller stops. The returned error
// means the read cannot go on.
func (s *Store) fetchFolder(cn *conn, ts []target, call func(mailbox.Address, []byte, error) bool) error {
	first := ts[0].addr
	each := func(err error) error {
		for _, t := range ts {
			if !call(t.addr, nil, err) {
				return nil
			}
		}
		return nil
	}
	if first.UIDValidity == 0 {
		return each(errValidityZero(first))
	}
	if cn.examined != first.Folder || cn.examinedValidity != first.UIDValidity {
		if _, err := s.selectFolder(cn, first.Folder, true, first.UIDValidity); err != nil {
			if errors.Is(err, mailbox.ErrNotFound) || errors.Is(err, mailbox.ErrUIDValidity) {
				return each(err)
			}
			return err
		}
	}
	byUID := make(map[imap.UID]mailbox.Address, len(ts))
	cands := make([]candidate, 0, len(ts))
	for _, t := range ts {
		if t.addr.UID == 0 {
			if !call(t.addr, nil, fmt.Errorf("imapstore: %s: %w", t.addr, mailbox.ErrNotFound)) {
				return nil
			}
			continue
		}
		byUID[imap.UID(t.addr.UID)] = t.addr
		cands = append(cands, candidate{uid: imap.UID(t.addr.UID), size: -1})
	}
	slices.SortFunc(cands, func(a, b candidate) int { return cmp.Compare(a.uid, b.uid) })
	sc := scan{cn: cn, f: folder{Name: first.Folder}}
	section := &imap.FetchItemBodySection{Peek: true}
	opts := &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}
	for len(cands) > 0 {
		n := batch(cands, sc.seen, sc.bytes)
		set := make(imap.UIDSet, 0, n)
		for _, c := range cands[:n] {
			set.AddNum(c.uid)
		}
		part := cands[:n]
		cands = cands[n:]
		got := make(map[imap.UID]bool, n)
		cmd := cn.c.Fetch(set, opts)
		stopped := false
		for {
			msg := cmd.Next()
			if msg == nil {
				break
			}
			meta, raw, ok, err := sc.readItems(msg)
			if err != nil {
				_ = cmd.Close()
				return err
			}
			uid := meta.UID
			a, want := byUID[uid]
			if !ok || !want || got[uid] {
				continue // not asked for, or expunged meanwhile
			}
			got[uid] = true
			if !call(a, raw, nil) {
				stopped = true
				break // Close reads the rest
			}
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("imapstore: fetch in %q of %q: %w", first.Folder, cn.owner, err)
		}
		if stopped {
			return nil
		}
		for _, c := range part {
			if !got[c.uid] {
				a := byUID[c.uid]
				if !call(a, nil, fmt.Errorf("imapstore: %s: %w", a, mailbox.ErrNotFound)) {
					return nil
				}
			}
		}
	}
	return nil
}
