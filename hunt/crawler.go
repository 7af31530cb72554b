package hunt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// CrawlerOptions are optional settings of a [Crawler]. A nil pointer is
// the same as a zero value.
type CrawlerOptions struct {
	// Workers is the number of mailboxes crawled at once; 0 means 4.
	Workers int
	// Batch is the number of new copies ingested per [Store.Ingest]
	// call; 0 means 200.
	Batch int
	// Retention is how long a copy stays in the index after it left its
	// mailbox; each crawl expires older ones ([Store.Expire]). A copy
	// still in its mailbox stays indexed. 0 means [DefaultRetention]; a
	// negative value keeps copies forever.
	Retention time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives what a crawl could not read; nil discards.
	Logger *slog.Logger
}

// Crawler keeps an index up to date with a [mailbox.Store]: the first
// crawl of a mailbox reads all of it (backfill), later crawls read only
// new mail, follow copies that moved, and mark the copies that went as
// removed. A Crawler is safe for concurrent use, but crawls of one
// mailbox should not overlap.
type Crawler struct {
	src   mailbox.Store
	index Store
	opts  CrawlerOptions
	log   *slog.Logger
}

// NewCrawler returns a Crawler that reads src and writes index. opts may
// be nil.
func NewCrawler(src mailbox.Store, index Store, opts *CrawlerOptions) *Crawler {
	c := &Crawler{src: src, index: index}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.Workers <= 0 {
		c.opts.Workers = 4
	}
	if c.opts.Batch <= 0 {
		c.opts.Batch = 200
	}
	if c.opts.Retention == 0 {
		c.opts.Retention = DefaultRetention
	}
	if c.opts.Now == nil {
		c.opts.Now = time.Now
	}
	c.log = c.opts.Logger
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// CrawlStats counts what one crawl did.
type CrawlStats struct {
	// Mailboxes is the number of mailboxes crawled.
	Mailboxes int `json:"mailboxes"`
	// Unchanged is the number of mailboxes whose folders had not changed
	// since the last crawl ([mailbox.FolderStater]); none of their mail
	// was listed.
	Unchanged int `json:"unchanged"`
	// Listed is the number of copies listed (summaries only).
	Listed int `json:"listed"`
	// Fetched is the number of new copies read whole and indexed.
	Fetched int `json:"fetched"`
	// Moved is the number of copies found at a new address.
	Moved int `json:"moved"`
	// Removed is the number of copies found gone.
	Removed int `json:"removed"`
	// Expired is the number of copies retention removed from the index.
	Expired int64 `json:"expired"`
}

func (s *CrawlStats) add(o CrawlStats) {
	s.Mailboxes += o.Mailboxes
	s.Unchanged += o.Unchanged
	s.Listed += o.Listed
	s.Fetched += o.Fetched
	s.Moved += o.Moved
	s.Removed += o.Removed
}

// Crawl brings the index up to date with the mailboxes named, or with
// every mailbox of the store when none is. A mailbox crawled without
// error gets a [Cursor] whose Fresh is the time its crawl started. The
// returned stats count what was done even when err is not nil; err joins
// the errors of the mailboxes that failed (each is crawled again in full
// by the next crawl where it failed) and of retention.
func (c *Crawler) Crawl(ctx context.Context, mailboxes ...string) (CrawlStats, error) {
	var stats CrawlStats
	if len(mailboxes) == 0 {
		var err error
		if mailboxes, err = c.src.Mailboxes(ctx); err != nil {
			return stats, fmt.Errorf("hunt: crawl: %w", err)
		}
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		next = make(chan string)
	)
	for range min(c.opts.Workers, len(mailboxes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for mb := range next {
				st, err := c.crawlMailbox(ctx, mb)
				mu.Lock()
				stats.add(st)
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, mb := range mailboxes {
		select {
		case next <- mb:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("hunt: crawl: %w", err))
	} else if c.opts.Retention > 0 {
		n, err := c.index.Expire(ctx, c.opts.Now().Add(-c.opts.Retention))
		stats.Expired = n
		if err != nil {
			errs = append(errs, fmt.Errorf("hunt: retention: %w", err))
		}
	}
	return stats, errors.Join(errs...)
}

// Run crawls every interval until ctx is done, and returns ctx's error.
// Errors of single crawls go to the logger.
func (c *Crawler) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if st, err := c.Crawl(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("hunt: crawl", "err", err, "mailboxes", st.Mailboxes, "fetched", st.Fetched)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// addrKey is an address within one mailbox.
type addrKey struct {
	folder      string
	uidValidity uint32
	uid         uint32
}

func keyOf(a mailbox.Address) addrKey { return addrKey{a.Folder, a.UIDValidity, a.UID} }

// crawlMailbox brings the index of one mailbox up to date.
func (c *Crawler) crawlMailbox(ctx context.Context, mb string) (CrawlStats, error) {
	stats := CrawlStats{Mailboxes: 1}
	start := c.opts.Now()
	fail := func(err error) (CrawlStats, error) { return stats, fmt.Errorf("hunt: crawl %s: %w", mb, err) }

	prev, err := c.index.Cursor(ctx, mb)
	if err != nil {
		return fail(err)
	}
	// With folder states, only the folders that changed are listed; a
	// mailbox where none did is fresh without reading anything.
	var states []mailbox.FolderStatus
	var changed []string // nil: list every folder
	if fs, ok := c.src.(mailbox.FolderStater); ok {
		if states, err = fs.FolderStatus(ctx, mb); err != nil {
			return fail(err)
		}
		if !prev.Fresh.IsZero() && prev.Folders != nil {
			changed = changedFolders(prev.Folders, states)
			if len(changed) == 0 {
				stats.Unchanged = 1
				return stats, c.setCursor(ctx, mb, start, states)
			}
		}
	}

	// What the index holds of the folders being listed.
	indexed := map[addrKey]Copy{}
	for cp, err := range c.index.Copies(ctx, Query{Mailboxes: []string{mb}}) {
		if err != nil {
			return fail(err)
		}
		if cp.Pending() {
			continue // not at an address yet: a delivery found below fills it in
		}
		if changed == nil || slices.Contains(changed, cp.Address.Folder) {
			indexed[keyOf(cp.Address)] = cp
		}
	}
	// What the mailbox holds: every copy matches its owner as recipient.
	crit := mailbox.Criteria{Recipients: []string{mb}, Folders: changed}
	var fresh []mailbox.Message
	for m, err := range c.src.Search(ctx, mb, crit) {
		if err != nil {
			return fail(err)
		}
		stats.Listed++
		k := keyOf(m.Address)
		if _, ok := indexed[k]; ok {
			delete(indexed, k) // still there
			continue
		}
		fresh = append(fresh, m)
	}
	// indexed now holds the copies that left their address: those seen
	// again elsewhere moved; the rest are gone.
	gone := make(map[string][]Copy, len(indexed))
	for _, cp := range indexed {
		k := identity(cp.Summary())
		gone[k] = append(gone[k], cp)
	}
	var relocs []Relocation
	var toFetch []mailbox.Message
	for _, m := range fresh {
		k := identity(m)
		if cps := gone[k]; len(cps) > 0 && k != "" {
			relocs = append(relocs, Relocation{From: cps[0].Address, To: m.Address, Role: m.Role, At: start})
			gone[k] = cps[1:]
			stats.Moved++
			continue
		}
		toFetch = append(toFetch, m)
	}
	for _, cps := range gone {
		for _, cp := range cps {
			relocs = append(relocs, Relocation{From: cp.Address, At: start})
			stats.Removed++
		}
	}
	if err := c.index.Relocate(ctx, relocs); err != nil {
		return fail(err)
	}

	var batch []Delivery
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.index.Ingest(ctx, batch)
		batch = batch[:0]
		return err
	}
	var errs []error
	for _, m := range toFetch {
		raw, err := c.src.Fetch(ctx, m.Address)
		if errors.Is(err, mailbox.ErrNotFound) {
			continue // gone since it was listed; the next crawl sees it gone
		}
		if err != nil {
			if ctx.Err() != nil {
				return fail(err)
			}
			errs = append(errs, err)
			continue
		}
		p, perr := mailbox.Parse(raw)
		if p == nil {
			errs = append(errs, fmt.Errorf("%s: %w", m.Address, perr))
			continue
		}
		if perr != nil {
			// The message is indexed with what could be read of it.
			c.log.Debug("hunt: crawl: message read in part", "address", m.Address.String(), "err", perr)
		}
		if p.EnvelopeFrom == "" {
			p.EnvelopeFrom = normAddr(m.EnvelopeFrom) // the store knows it from elsewhere
		}
		msg := NewMessage(p)
		batch = append(batch, Delivery{Address: m.Address, Role: m.Role, At: deliveredAt(p, start), Message: msg})
		stats.Fetched++
		if len(batch) >= c.opts.Batch {
			if err := flush(); err != nil {
				return fail(err)
			}
		}
	}
	if err := flush(); err != nil {
		return fail(err)
	}
	if len(errs) > 0 {
		// The cursor stays: the next crawl lists the mailbox again and
		// retries what could not be read.
		return fail(errors.Join(errs...))
	}
	return stats, c.setCursor(ctx, mb, start, states)
}

func (c *Crawler) setCursor(ctx context.Context, mb string, fresh time.Time, states []mailbox.FolderStatus) error {
	if err := c.index.SetCursor(ctx, Cursor{Mailbox: mb, Fresh: fresh, Folders: states}); err != nil {
		return fmt.Errorf("hunt: crawl %s: %w", mb, err)
	}
	return nil
}

// changedFolders returns the names of the folders of now that are new or
// differ from their state in prev; a folder of prev that is gone makes
// every folder changed (its copies moved somewhere).
func changedFolders(prev, now []mailbox.FolderStatus) []string {
	was := make(map[string]mailbox.FolderStatus, len(prev))
	for _, f := range prev {
		was[f.Name] = f
	}
	var out []string
	for _, f := range now {
		if p, ok := was[f.Name]; !ok || p != f {
			out = append(out, f.Name)
		}
		delete(was, f.Name)
	}
	for _, f := range was {
		if f.Messages > 0 {
			out = nil
			for _, f := range now {
				out = append(out, f.Name)
			}
			return out
		}
	}
	return out
}

// deliveredAt estimates when a crawled copy was delivered: the date of
// the topmost Received header (the receiving server's own), else the Date
// header, else the crawl's start; a date after the crawl's start is not
// believed.
func deliveredAt(p *mailbox.Parsed, start time.Time) time.Time {
	if len(p.Received) > 0 {
		if i := strings.LastIndexByte(p.Received[0], ';'); i >= 0 {
			if t, err := mail.ParseDate(strings.TrimSpace(p.Received[0][i+1:])); err == nil && !t.After(start) {
				return t
			}
		}
	}
	if !p.Date.IsZero() && !p.Date.After(start) {
		return p.Date
	}
	return start
}

// identity is what a copy that moved keeps: the same message, as its
// summary shows it (the date is left out: a store gives the internal date
// where the index has none). "" when the summary has too little to tell
// messages apart.
func identity(m mailbox.Message) string {
	id := mailbox.NormalizeMessageID(m.MessageID)
	if id == "" && m.From == "" && m.Subject == "" {
		return ""
	}
	return id + "\x00" + normAddr(m.From) + "\x00" + m.Subject
}
