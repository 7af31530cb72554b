package diskstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

var _ mailbox.Store = (*Store)(nil)

// Role folder names, as the mock names them.
var roleFolders = []struct {
	role mailbox.Role
	name string
}{
	{mailbox.RoleInbox, "INBOX"},
	{mailbox.RoleJunk, "Junk"},
	{mailbox.RoleDeleted, "Deleted Items"},
	{mailbox.RoleSent, "Sent Items"},
	{mailbox.RoleRecoverable, "Recoverable Items"},
	{mailbox.RoleQuarantine, "Quarantine"},
	{mailbox.RoleEvidence, "Purge Evidence"},
}

// ErrExists means a user or folder being created exists already.
var ErrExists = errors.New("diskstore: already exists")

// Store is a mailbox.Store in a directory.
type Store struct {
	root string
	mu   sync.Mutex
}

// Open returns the store in root, creating the directory when needed.
func Open(root string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(root, ".tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("diskstore: %w", err)
	}
	return &Store{root: root}, nil
}

func esc(s string) string { return url.PathEscape(s) }

func unesc(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}

func (s *Store) mbDir(owner string) string { return filepath.Join(s.root, esc(strings.ToLower(owner))) }

func (s *Store) folderDir(owner, folder string) string {
	return filepath.Join(s.mbDir(owner), esc(folder))
}

// writeAtomic writes data to path by a rename.
func (s *Store) writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Join(s.root, ".tmp"), "w")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

// AddUser creates the mailbox of owner with one folder per role. It
// returns an error wrapping ErrExists when it exists.
func (s *Store) AddUser(owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := s.mbDir(owner)
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("diskstore: user %s: %w", owner, ErrExists)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("diskstore: %w", err)
	}
	for _, rf := range roleFolders {
		if err := s.createFolderLocked(owner, rf.name, rf.role); err != nil {
			return err
		}
	}
	return nil
}

// CreateFolder creates an ordinary folder in owner's mailbox.
func (s *Store) CreateFolder(owner, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(s.mbDir(owner)); err != nil {
		return fmt.Errorf("diskstore: %s: %w", owner, mailbox.ErrNoMailbox)
	}
	if _, err := os.Stat(s.folderDir(owner, name)); err == nil {
		return fmt.Errorf("diskstore: folder %s: %w", name, ErrExists)
	}
	return s.createFolderLocked(owner, name, mailbox.RoleNone)
}

func (s *Store) createFolderLocked(owner, name string, role mailbox.Role) error {
	dir := s.folderDir(owner, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("diskstore: %w", err)
	}
	v, err := s.nextValidityLocked()
	if err != nil {
		return err
	}
	if err := s.writeAtomic(filepath.Join(dir, "next"), []byte("1")); err != nil {
		return fmt.Errorf("diskstore: %w", err)
	}
	if err := s.writeAtomic(filepath.Join(dir, "meta"), fmt.Appendf(nil, "%d %s", v, role)); err != nil {
		return fmt.Errorf("diskstore: %w", err)
	}
	return nil
}

func (s *Store) nextValidityLocked() (uint32, error) {
	p := filepath.Join(s.root, "validity")
	v := uint32(1)
	if b, err := os.ReadFile(p); err == nil {
		n, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
		v = uint32(n) + 1
	}
	if err := s.writeAtomic(p, []byte(strconv.FormatUint(uint64(v), 10))); err != nil {
		return 0, fmt.Errorf("diskstore: %w", err)
	}
	return v, nil
}

// ChangeUIDValidity gives folder a new UIDVALIDITY; its messages stay.
func (s *Store) ChangeUIDValidity(owner, folder string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fi, err := s.folderLocked(owner, folder)
	if err != nil {
		return err
	}
	v, err := s.nextValidityLocked()
	if err != nil {
		return err
	}
	return s.writeAtomic(filepath.Join(fi.dir, "meta"), fmt.Appendf(nil, "%d %s", v, fi.role))
}

type folderInfo struct {
	name     string
	dir      string
	role     mailbox.Role
	validity uint32
}

func (s *Store) folderLocked(owner, name string) (folderInfo, error) {
	if _, err := os.Stat(s.mbDir(owner)); err != nil {
		return folderInfo{}, fmt.Errorf("diskstore: %s: %w", owner, mailbox.ErrNoMailbox)
	}
	if strings.EqualFold(name, "INBOX") {
		name = "INBOX"
	}
	dir := s.folderDir(owner, name)
	b, err := os.ReadFile(filepath.Join(dir, "meta"))
	if err != nil {
		return folderInfo{}, fmt.Errorf("diskstore: %s in %s: %w", name, owner, mailbox.ErrNoFolder)
	}
	v, role, _ := strings.Cut(string(b), " ")
	n, _ := strconv.ParseUint(v, 10, 32)
	return folderInfo{name: name, dir: dir, role: mailbox.Role(role), validity: uint32(n)}, nil
}

func (s *Store) foldersLocked(owner string) ([]folderInfo, error) {
	ents, err := os.ReadDir(s.mbDir(owner))
	if err != nil {
		return nil, fmt.Errorf("diskstore: %s: %w", owner, mailbox.ErrNoMailbox)
	}
	var out []folderInfo
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		fi, err := s.folderLocked(owner, unesc(e.Name()))
		if err != nil {
			continue
		}
		out = append(out, fi)
	}
	rank := func(r mailbox.Role) int {
		for i, rf := range roleFolders {
			if rf.role == r {
				return i
			}
		}
		return len(roleFolders)
	}
	slices.SortFunc(out, func(a, b folderInfo) int {
		return cmp.Or(cmp.Compare(rank(a.role), rank(b.role)), strings.Compare(a.name, b.name))
	})
	return out, nil
}

func (s *Store) resolveLocked(owner string, loc mailbox.Location) (folderInfo, error) {
	if err := loc.Validate(); err != nil {
		return folderInfo{}, err
	}
	if loc.Folder != "" {
		return s.folderLocked(owner, loc.Folder)
	}
	for _, rf := range roleFolders {
		if rf.role == loc.Role {
			return s.folderLocked(owner, rf.name)
		}
	}
	return folderInfo{}, fmt.Errorf("diskstore: role %q: %w", loc.Role, mailbox.ErrNoFolder)
}

// msgName is the file name of a copy: "<uid>.eml", or
// "<uid>,<escaped flags>.eml" when it has flags (kept across renames).
func msgName(uid uint32, flags string) string {
	n := strconv.FormatUint(uint64(uid), 10)
	if flags != "" {
		n += "," + flags
	}
	return n + ".eml"
}

// parseName splits a copy's file name into UID and escaped flags.
func parseName(name string) (uint32, string, bool) {
	base, ok := strings.CutSuffix(name, ".eml")
	if !ok {
		return 0, "", false
	}
	num, flags, _ := strings.Cut(base, ",")
	uid, err := strconv.ParseUint(num, 10, 32)
	if err != nil || uid == 0 {
		return 0, "", false
	}
	return uint32(uid), flags, true
}

// findMsg returns the path and escaped flags of the copy uid in dir.
func findMsg(dir string, uid uint32) (string, string, bool) {
	p := filepath.Join(dir, msgName(uid, ""))
	if _, err := os.Stat(p); err == nil {
		return p, "", true
	}
	m, _ := filepath.Glob(filepath.Join(dir, strconv.FormatUint(uint64(uid), 10)+",*.eml"))
	if len(m) == 1 {
		_, flags, _ := parseName(filepath.Base(m[0]))
		return m[0], flags, true
	}
	return "", "", false
}

func decodeFlags(esc string) []string {
	if esc == "" {
		return nil
	}
	return strings.Fields(unesc(esc))
}

// allocLocked hands out the next UID of a folder.
func (s *Store) allocLocked(fi folderInfo) (uint32, error) {
	b, err := os.ReadFile(filepath.Join(fi.dir, "next"))
	if err != nil {
		return 0, fmt.Errorf("diskstore: %w", err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("diskstore: bad UID counter in %s", fi.name)
	}
	if err := s.writeAtomic(filepath.Join(fi.dir, "next"), []byte(strconv.FormatUint(n+1, 10))); err != nil {
		return 0, fmt.Errorf("diskstore: %w", err)
	}
	return uint32(n), nil
}

// Mailboxes implements mailbox.Store.
func (s *Store) Mailboxes(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("diskstore: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ents, err := os.ReadDir(s.root)
	if err != nil {
		return nil, fmt.Errorf("diskstore: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, unesc(e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}

// addrOK checks that a names an existing copy.
func (s *Store) addrLocked(a mailbox.Address) (folderInfo, string, error) {
	fi, err := s.folderLocked(a.Mailbox, a.Folder)
	if err != nil {
		if errors.Is(err, mailbox.ErrNoFolder) {
			return fi, "", fmt.Errorf("diskstore: %s: %w", a, mailbox.ErrNotFound)
		}
		return fi, "", err
	}
	if fi.validity != a.UIDValidity {
		return fi, "", fmt.Errorf("diskstore: %s: %w", a, mailbox.ErrUIDValidity)
	}
	p, _, ok := findMsg(fi.dir, a.UID)
	if !ok {
		return fi, "", fmt.Errorf("diskstore: %s: %w", a, mailbox.ErrNotFound)
	}
	return fi, p, nil
}

// Fetch implements mailbox.Store.
func (s *Store) Fetch(ctx context.Context, a mailbox.Address) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("diskstore: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, p, err := s.addrLocked(a)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("diskstore: %s: %w", a, mailbox.ErrNotFound)
	}
	return b, nil
}

func batchOwner(addrs []mailbox.Address) (string, error) {
	if len(addrs) == 0 {
		return "", nil
	}
	for _, a := range addrs[1:] {
		if !strings.EqualFold(a.Mailbox, addrs[0].Mailbox) {
			return "", fmt.Errorf("diskstore: addresses span mailboxes %s and %s", addrs[0].Mailbox, a.Mailbox)
		}
	}
	return addrs[0].Mailbox, nil
}

// Move implements mailbox.Store: each copy is renamed into the
// destination under a new UID.
func (s *Store) Move(ctx context.Context, addrs []mailbox.Address, to mailbox.Location) ([]mailbox.Moved, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("diskstore: %w", err)
	}
	owner, err := batchOwner(addrs)
	if err != nil || len(addrs) == 0 {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dst, err := s.resolveLocked(owner, to)
	if err != nil {
		return nil, err
	}
	out := make([]mailbox.Moved, len(addrs))
	for i, a := range addrs {
		out[i].From = a
		fi, p, err := s.addrLocked(a)
		if err != nil {
			out[i].Err = err
			continue
		}
		if fi.dir == dst.dir {
			out[i].To = a
			continue
		}
		uid, err := s.allocLocked(dst)
		if err != nil {
			out[i].Err = err
			continue
		}
		_, flags, _ := parseName(filepath.Base(p))
		if err := os.Rename(p, filepath.Join(dst.dir, msgName(uid, flags))); err != nil {
			out[i].Err = fmt.Errorf("diskstore: move %s: %w", a, err)
			continue
		}
		out[i].To = mailbox.Address{Mailbox: a.Mailbox, Folder: dst.name, UIDValidity: dst.validity, UID: uid}
	}
	return out, nil
}

// Expunge implements mailbox.Store.
func (s *Store) Expunge(ctx context.Context, addrs []mailbox.Address) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("diskstore: %w", err)
	}
	owner, err := batchOwner(addrs)
	if err != nil || len(addrs) == 0 {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(s.mbDir(owner)); err != nil {
		return nil, fmt.Errorf("diskstore: %s: %w", owner, mailbox.ErrNoMailbox)
	}
	out := make([]error, len(addrs))
	for i, a := range addrs {
		_, p, err := s.addrLocked(a)
		if err == nil {
			if rerr := os.Remove(p); rerr != nil {
				err = fmt.Errorf("diskstore: %s: %w", a, mailbox.ErrNotFound)
			}
		}
		out[i] = err
	}
	return out, nil
}

// Append implements mailbox.Store.
func (s *Store) Append(ctx context.Context, owner string, to mailbox.Location, raw []byte, opts *mailbox.AppendOptions) (mailbox.Address, error) {
	if err := ctx.Err(); err != nil {
		return mailbox.Address{}, fmt.Errorf("diskstore: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dst, err := s.resolveLocked(owner, to)
	if err != nil {
		return mailbox.Address{}, err
	}
	uid, err := s.allocLocked(dst)
	if err != nil {
		return mailbox.Address{}, err
	}
	var flags string
	if opts != nil && len(opts.Flags) > 0 {
		flags = esc(strings.Join(opts.Flags, " "))
	}
	p := filepath.Join(dst.dir, msgName(uid, flags))
	if err := s.writeAtomic(p, raw); err != nil {
		return mailbox.Address{}, fmt.Errorf("diskstore: %w", err)
	}
	if opts != nil && !opts.Date.IsZero() {
		_ = os.Chtimes(p, opts.Date, opts.Date)
	}
	return mailbox.Address{Mailbox: strings.ToLower(owner), Folder: dst.name, UIDValidity: dst.validity, UID: uid}, nil
}

// Search implements mailbox.Store. It reads each file of the folders in
// scope; it is meant for tests, not for large mailboxes.
func (s *Store) Search(ctx context.Context, owner string, c mailbox.Criteria) iter.Seq2[mailbox.Message, error] {
	return func(yield func(mailbox.Message, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(mailbox.Message{}, fmt.Errorf("diskstore: %w", err))
			return
		}
		if err := c.Validate(); err != nil {
			yield(mailbox.Message{}, err)
			return
		}
		s.mu.Lock()
		folders, err := s.foldersLocked(owner)
		s.mu.Unlock()
		if err != nil {
			yield(mailbox.Message{}, err)
			return
		}
		for _, fi := range folders {
			if !c.MatchFolder(fi.name, fi.role) {
				continue
			}
			for _, m := range s.folderMessages(owner, fi) {
				if err := ctx.Err(); err != nil {
					yield(mailbox.Message{}, fmt.Errorf("diskstore: %w", err))
					return
				}
				ok, err := c.Match(&m.msg, func() (*mailbox.Parsed, error) {
					p, _ := mailbox.Parse(m.raw)
					return p, nil
				})
				if err != nil {
					yield(mailbox.Message{}, err)
					return
				}
				if ok && !yield(m.msg, nil) {
					return
				}
			}
		}
	}
}

type stored struct {
	msg mailbox.Message
	raw []byte
}

// folderMessages reads a snapshot of a folder's copies, in UID order.
func (s *Store) folderMessages(owner string, fi folderInfo) []stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	ents, err := os.ReadDir(fi.dir)
	if err != nil {
		return nil
	}
	var out []stored
	for _, e := range ents {
		uid, flags, ok := parseName(e.Name())
		if !ok {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(fi.dir, e.Name()))
		if err != nil {
			continue
		}
		var mod time.Time
		if info, err := e.Info(); err == nil {
			mod = info.ModTime()
		} else if !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		p, _ := mailbox.ParseHeader(raw)
		if p == nil {
			p = &mailbox.Parsed{}
		}
		m := p.Summary()
		m.Address = mailbox.Address{Mailbox: strings.ToLower(owner), Folder: fi.name, UIDValidity: fi.validity, UID: uint32(uid)}
		m.Role = fi.role
		m.Size = int64(len(raw))
		m.Flags = decodeFlags(flags)
		if m.Date.IsZero() {
			m.Date = mod
		}
		out = append(out, stored{msg: m, raw: bytes.Clone(raw)})
	}
	slices.SortFunc(out, func(a, b stored) int { return cmp.Compare(a.msg.Address.UID, b.msg.Address.UID) })
	return out
}
