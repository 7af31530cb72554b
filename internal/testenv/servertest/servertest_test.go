package servertest

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBufferConcurrentAndCapped(t *testing.T) {
	var all Buffer
	capped := Buffer{Max: 10}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				n, err := all.Write([]byte("abc"))
				assert.NoError(t, err)
				assert.Equal(t, 3, n)
				n, err = capped.Write([]byte("abc"))
				assert.NoError(t, err)
				assert.Equal(t, 3, n, "a capped buffer still reports the whole write")
			}
		}()
	}
	wg.Wait()
	assert.Len(t, all.String(), 8*100*3)
	assert.Equal(t, "abcabcabca", capped.String())
	capped.Reset()
	assert.Empty(t, capped.String())
	_, _ = capped.Write([]byte("xyz"))
	assert.Equal(t, "xyz", capped.String(), "a reset buffer keeps new writes")
}

func TestFreePortIsLoopbackAndFree(t *testing.T) {
	p := FreePort(t, "test")
	require.Positive(t, p)
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	require.NoError(t, err, "the port is free to listen on")
	require.NoError(t, ln.Close())
}

func TestRandomHex(t *testing.T) {
	a, b := RandomHex(t, 16), RandomHex(t, 16)
	assert.Len(t, a, 32)
	assert.NotEqual(t, a, b)
}

func TestListeningAndWaitReady(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if !Listening(addr) {
		t.Fatalf("nothing listening at %s, it says", addr)
	}
	polls := 0
	WaitReady(t, "test server", make(chan struct{}), func() bool { polls++; return polls == 3 }, func() string { return "" })
	if polls != 3 {
		t.Fatalf("ready polled %d times, want 3", polls)
	}
	l.Close()
	if Listening(addr) {
		t.Fatalf("a closed listener at %s still listens, it says", addr)
	}
}

func TestSample(t *testing.T) {
	s, err := Sample("docs/tap/dovecot-lmtp.conf", "port = 24", "port = 12345")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s, "port = 12345") || strings.Contains(s, "port = 24\n") {
		t.Fatalf("the replacement was not made:\n%s", s)
	}
	if _, err := Sample("docs/tap/dovecot-lmtp.conf", "no such line", "x"); err == nil || !strings.Contains(err.Error(), "no longer has") {
		t.Fatalf("a replacement that does not apply: %v", err)
	}
	if _, err := Sample("docs/tap/dovecot-lmtp.conf", "port = 24"); err == nil {
		t.Fatal("an odd number of replacement strings is refused")
	}
	if _, err := Sample("docs/no/such/file"); err == nil {
		t.Fatal("a missing sample is an error")
	}
}
