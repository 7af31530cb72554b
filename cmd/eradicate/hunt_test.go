package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHuntFlags(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	got, err := sinceTime("24h", now)
	require.NoError(t, err)
	assert.Equal(t, now.Add(-24*time.Hour), got)
	got, err = sinceTime("2026-12-01T00:00:00Z", now)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), got)
	for _, bad := range []string{"yesterday", "-1h", "0s", ""} {
		_, err := sinceTime(bad, now)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "'It''s ''quoted'''", odataString("It's 'quoted'"))

	var out, errb bytes.Buffer
	t.Setenv("ERADICATE_TOKEN", "x")
	err = run(context.Background(), []string{"hunt"}, &out, &errb)
	require.ErrorContains(t, err, "say what to hunt for")
	err = run(context.Background(), []string{"hunt", "-since", "soon", "-subject", "x"}, &out, &errb)
	require.ErrorContains(t, err, "-since")
	err = run(context.Background(), []string{"hunt", "-subject", "x", "extra"}, &out, &errb)
	require.ErrorContains(t, err, "unexpected argument")
}
