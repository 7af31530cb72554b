package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Defaults of the rate limit per identity ([Options.RateLimit],
// [Options.RateBurst]).
const (
	DefaultRateLimit = 50   // calls per second, sustained
	DefaultRateBurst = 1000 // calls at once
)

// limiter is a token bucket per identity.
type limiter struct {
	rate, burst float64
	mu          sync.Mutex
	buckets     map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// allow takes a token of name's bucket; when there is none it returns how
// long until there is.
func (l *limiter) allow(name string, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[name]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[name] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

func newLimiter(rate float64, burst int) *limiter {
	if rate < 0 {
		return nil
	}
	if rate == 0 {
		rate = DefaultRateLimit
	}
	if burst <= 0 {
		burst = DefaultRateBurst
	}
	return &limiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

// rateLimit refuses a call of an identity over its rate with 429 and a
// Retry-After, as Graph does.
func (h *Handler) rateLimit(c *call) error {
	ok, wait := h.limiter.allow(c.id.Name, time.Now())
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	c.w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	return errorf(http.StatusTooManyRequests, "TooManyRequests",
		c.id.Name+" is over its rate limit; retry after "+strconv.Itoa(max(secs, 1))+"s")
}
