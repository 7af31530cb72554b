package journal_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/journaltest"
)

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	k, err := journal.WriteKeyFile(path)
	require.NoError(t, err)
	_, err = journal.WriteKeyFile(path)
	require.Error(t, err, "an existing key file is not overwritten")
	k2, err := journal.ReadKeyFile(path)
	require.NoError(t, err)
	require.Equal(t, k.ID(), k2.ID())

	if runtime.GOOS != "windows" {
		require.NoError(t, os.Chmod(path, 0o644))
		_, err = journal.ReadKeyFile(path)
		require.ErrorContains(t, err, "accessible to others")
	}
	short := filepath.Join(dir, "short")
	require.NoError(t, os.WriteFile(short, []byte("00112233\n"), 0o600))
	_, err = journal.ReadKeyFile(short)
	require.ErrorContains(t, err, "at least 16 bytes")
	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Repeat("zz", 32)), 0o600))
	_, err = journal.ReadKeyFile(bad)
	require.ErrorContains(t, err, "not hex")
	_, err = journal.NewKey(make([]byte, 15))
	require.Error(t, err)
}

func TestHeadLine(t *testing.T) {
	k, err := journal.NewKey([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	c := journal.NewChain(k)
	c.Add([]byte("entry 0"))
	c.Add([]byte("entry 1"))
	h := c.Head()
	require.EqualValues(t, 2, h.Entries)
	got, err := journal.ParseHead("Dec  7 07:00:00 host eradicate[42]: " + h.String())
	require.NoError(t, err)
	require.Equal(t, h, got)

	for _, bad := range []string{
		"",
		"eradicate-journal-head v1 entries=2 key=ab",
		"eradicate-journal-head v1 entries=x key=ab mac=" + strings.Repeat("00", 32),
		"eradicate-journal-head v1 entries=2 key=ab mac=00",
	} {
		_, err := journal.ParseHead(bad)
		require.Error(t, err, bad)
	}

	// A chain resumed from a head goes on as the original.
	r, err := journal.ResumeChain(k, h)
	require.NoError(t, err)
	require.Equal(t, c.Add([]byte("entry 2")), r.Add([]byte("entry 2")))
	other, err := journal.NewKey([]byte("another key, 32 bytes long......"))
	require.NoError(t, err)
	_, err = journal.ResumeChain(other, h)
	require.ErrorIs(t, err, journal.ErrTampered)
}

func FuzzParseHead(f *testing.F) {
	k, _ := journal.NewKey([]byte("0123456789abcdef0123456789abcdef"))
	f.Add(journal.NewChain(k).Head().String())
	f.Add("x eradicate-journal-head v1 entries=18446744073709551615 key= mac=")
	f.Fuzz(func(t *testing.T, line string) {
		h, err := journal.ParseHead(line)
		if err != nil {
			return
		}
		again, err := journal.ParseHead(h.String())
		if err != nil || again != h {
			t.Fatalf("%q parsed to %+v, which formats to %q and parses to %+v, %v", line, h, h.String(), again, err)
		}
	})
}

// UnmarshalEntry decodes what a database row holds: damage gives
// ErrCorrupt, never a panic, and what decodes encodes again.
func FuzzUnmarshalEntry(f *testing.F) {
	for _, e := range journaltest.Entries() {
		b, err := journal.MarshalEntry(nil, e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := journal.UnmarshalEntry(b)
		if err != nil {
			if !errors.Is(err, journal.ErrCorrupt) {
				t.Fatalf("error not wrapping ErrCorrupt: %v", err)
			}
			return
		}
		if _, err := journal.MarshalEntry(nil, e); err != nil {
			t.Fatalf("a decoded entry does not encode: %v", err)
		}
	})
}
