package xandikos_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/xandikos"
)

func TestStart(t *testing.T) {
	srv := xandikos.Start(t)
	req, err := http.NewRequestWithContext(context.Background(), "PROPFIND", srv.URL+"user/calendars/", nil)
	require.NoError(t, err)
	req.Header.Set("Depth", "1")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode, "%s", body)
	assert.Contains(t, string(body), "/user/calendars/calendar/")
	srv.Stop()
	srv.Stop()
}
