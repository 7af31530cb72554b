package pgjournal

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/journaltest"
)

// A row's payload round-trips: runs of several Append calls in one row,
// decoded in order, give the entries back.
func TestRowRoundTrip(t *testing.T) {
	want := journaltest.Entries()
	payload := []byte{rowV2}
	var err error
	for _, run := range [][]remediation.Entry{want[:2], want[2:3], want[3:]} {
		payload, err = encodeBlock(payload, run)
		require.NoError(t, err)
	}
	var got []remediation.Entry
	var dec decoder
	require.NoError(t, splitBlock(payload, func(raw []byte, pos int) error {
		e, err := dec.decode(raw, pos)
		got = append(got, e)
		return err
	}))
	require.Len(t, got, len(want))
	for i := range want {
		// Compared by their encodings alone (which make no difference
		// between a nil and an empty list).
		w, err := journal.MarshalEntry(nil, want[i])
		require.NoError(t, err)
		g, err := journal.MarshalEntry(nil, got[i])
		require.NoError(t, err)
		require.Equal(t, w, g, "entry %d", i)
	}
}

// A damaged row payload (the database is attacker input to a journal
// with a key) gives an error, never a panic.
func FuzzRowPayload(f *testing.F) {
	entries := journaltest.Entries()
	two, err := encodeBlock([]byte{rowV2}, entries)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(two)
	f.Add([]byte{rowV2, 1, 3, 1, 2, 3})
	f.Add([]byte{3, 1, 2, 3})
	f.Fuzz(func(t *testing.T, payload []byte) {
		var dec decoder
		var buf []byte
		_ = splitBlock(payload, func(raw []byte, pos int) error {
			buf = macInput(buf, raw, pos)
			_, err := dec.decode(raw, pos)
			return err
		})
	})
}
