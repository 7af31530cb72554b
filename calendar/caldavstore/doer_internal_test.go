package caldavstore

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// roundTripFunc is an http.RoundTripper from a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestDoerSendsCredentialsOnlyToEndpoint: a request for another scheme,
// host or port than the endpoint's, or with user info of its own, is
// refused before the credential is added; none reaches the transport.
func TestDoerSendsCredentialsOnlyToEndpoint(t *testing.T) {
	var sent []string
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = append(sent, r.URL.String()+" "+r.Header.Get("Authorization"))
		return &http.Response{StatusCode: http.StatusNoContent, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})}
	endpoint, err := url.Parse("https://cal.example.com/dav/")
	require.NoError(t, err)
	d := &doer{hc: hc, cred: Credential{Username: "admin", Password: "pw"}, log: slog.New(slog.DiscardHandler), endpoint: endpoint}
	for _, u := range []string{
		"http://cal.example.com/dav/x.ics",
		"https://evil.example/dav/x.ics",
		"https://cal.example.com:8443/dav/x.ics",
		"https://cal.example.com.evil.example/dav/x.ics",
		"https://other:pw@cal.example.com/dav/x.ics",
	} {
		req, err := http.NewRequest(http.MethodDelete, u, nil)
		require.NoError(t, err)
		_, err = d.Do(req)
		assert.True(t, errors.Is(err, ErrForeignURL), "%s: %v", u, err)
		assert.Empty(t, req.Header.Get("Authorization"), u)
	}
	assert.Empty(t, sent)
	req, err := http.NewRequest(http.MethodDelete, "https://CAL.example.com/dav/x.ics", nil)
	require.NoError(t, err)
	resp, err := d.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Len(t, sent, 1)
	assert.Contains(t, sent[0], "Basic ")
}
