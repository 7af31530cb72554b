package mock

import (
	"log/slog"
	"sync"
)

// Tenant is an in-memory tenant: users with mailboxes and calendars. It
// implements mailbox.Store and calendar.Store. A Tenant is safe for
// concurrent use by multiple goroutines.
type Tenant struct {
	mu     sync.Mutex
	opts   Options
	log    *slog.Logger
	mail   mailState  // mail.go
	cal    calState   // calendar.go
	faults faultState // faults.go
}

// Options configure a [Tenant]. A nil *Options is the same as a zero value.
type Options struct {
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// New returns an empty tenant.
func New(opts *Options) *Tenant {
	t := &Tenant{}
	if opts != nil {
		t.opts = *opts
	}
	t.log = t.opts.Logger
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.initMailLocked()
	t.initCalLocked()
	return t
}
