package pgjournal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
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

// TryAcquire takes the lease named key for this journal's holder, or
// reports false when another holder has it and it has not expired. It
// never waits for another holder: the lease's row is locked with SKIP
// LOCKED. A lease this holder has already is renewed. Leases are renewed
// in the background until [Journal.Release] or [Journal.Close].
func (j *Journal) TryAcquire(ctx context.Context, key string) (bool, error) {
	if err := j.begin(); err != nil {
		return false, err
	}
	defer j.active.Done()
	var n int64
	if err := j.pool.QueryRow(ctx, j.q.acquire, key, j.leases.holder, j.leases.timeout.Milliseconds()).Scan(&n); err != nil {
		return false, fmt.Errorf("pgjournal: acquire lease %q: %w", key, err)
	}
	if n == 0 {
		return false, nil
	}
	l := &j.leases
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held[key] = true
	delete(l.lost, key)
	if !l.running && !l.stopped {
		l.running = true
		l.wg.Add(1)
		go j.renewLoop()
	}
	return true, nil
}

// Release gives back the lease named key, when this holder has it.
func (j *Journal) Release(ctx context.Context, key string) error {
	if err := j.begin(); err != nil {
		return err
	}
	defer j.active.Done()
	l := &j.leases
	l.mu.Lock()
	delete(l.held, key)
	delete(l.lost, key)
	l.mu.Unlock()
	if _, err := j.pool.Exec(ctx, j.q.release, key, l.holder); err != nil {
		return fmt.Errorf("pgjournal: release lease %q: %w", key, err)
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
		rows, err := j.pool.Query(ctx, j.q.renew, l.holder, keys, l.timeout.Milliseconds())
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
