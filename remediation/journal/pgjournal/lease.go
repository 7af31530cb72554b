package pgjournal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultLeaseTimeout is the lease timeout of Options.LeaseTimeout 0.
const defaultLeaseTimeout = 30 * time.Second

// leases are the leases a journal holds, renewed in the background.
type leases struct {
	holder  string
	timeout time.Duration

	mu      sync.Mutex
	held    map[string]bool
	lost    map[string]bool
	running bool
	done    chan struct{} // closed by stop
	stopped bool
	wg      sync.WaitGroup
}

func (l *leases) init() error {
	if l.timeout < 0 {
		return errors.New("pgjournal: negative LeaseTimeout")
	}
	if l.timeout == 0 {
		l.timeout = defaultLeaseTimeout
	}
	if l.holder == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		l.holder = strings.Join([]string{host, strconv.Itoa(os.Getpid()), hex.EncodeToString(b)}, ":")
	}
	l.held = map[string]bool{}
	l.lost = map[string]bool{}
	l.done = make(chan struct{})
	return nil
}

// Holder returns the name this journal holds leases under.
func (j *Journal) Holder() string { return j.leases.holder }

// TryAcquire takes those of the leases named keys that no other holder
// has (or whose holder let them expire) for this journal's holder, and
// returns the keys it took. Leases this holder has already are renewed
// and returned. It never waits for another holder: the leases' rows are
// locked with SKIP LOCKED. The leases are renewed in the background
// until [Journal.Release] or [Journal.Close].
func (j *Journal) TryAcquire(ctx context.Context, keys ...string) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if err := j.begin(); err != nil {
		return nil, err
	}
	defer j.active.Done()
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	rows, err := j.lpool.Query(ctx, j.q.acquire, sorted, j.leases.holder, j.leases.timeout.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("pgjournal: acquire leases: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("pgjournal: acquire leases: %w", err)
	}
	if len(got) == 0 {
		return nil, nil
	}
	l := &j.leases
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range got {
		l.held[k] = true
		delete(l.lost, k)
	}
	if !l.running && !l.stopped {
		l.running = true
		l.wg.Add(1)
		go j.renewLoop()
	}
	return got, nil
}

// Release gives back those of the leases named keys this holder has.
func (j *Journal) Release(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if err := j.begin(); err != nil {
		return err
	}
	defer j.active.Done()
	l := &j.leases
	l.mu.Lock()
	for _, k := range keys {
		delete(l.held, k)
		delete(l.lost, k)
	}
	l.mu.Unlock()
	if _, err := j.lpool.Exec(ctx, j.q.release, keys, l.holder); err != nil {
		return fmt.Errorf("pgjournal: release leases: %w", err)
	}
	return nil
}

// Held reports whether this holder still has the lease named key: it
// took it and no renewal has found it taken by another holder since
// (which happens only when this process could not renew it for the
// lease timeout).
func (j *Journal) Held(key string) bool {
	l := &j.leases
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[key] && !l.lost[key]
}

// renewLoop renews the held leases every third of the timeout until stop.
func (j *Journal) renewLoop() {
	l := &j.leases
	defer l.wg.Done()
	t := time.NewTicker(l.timeout / 3)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		}
		l.mu.Lock()
		keys := make([]string, 0, len(l.held))
		for k := range l.held {
			keys = append(keys, k)
		}
		l.mu.Unlock()
		if len(keys) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.timeout/3)
		rows, err := j.lpool.Query(ctx, j.q.renew, l.holder, keys, l.timeout.Milliseconds())
		renewed := map[string]bool{}
		if err == nil {
			for rows.Next() {
				var k string
				if rows.Scan(&k) == nil {
					renewed[k] = true
				}
			}
			rows.Close()
			err = rows.Err()
		}
		cancel()
		if err != nil {
			continue // try again at the next tick: the lease may still be ours
		}
		l.mu.Lock()
		for _, k := range keys {
			if !renewed[k] && l.held[k] {
				l.lost[k] = true
			}
		}
		l.mu.Unlock()
	}
}

// stop ends the renewals.
func (l *leases) stop() {
	l.mu.Lock()
	if !l.stopped {
		l.stopped = true
		close(l.done)
	}
	l.mu.Unlock()
	l.wg.Wait()
}
