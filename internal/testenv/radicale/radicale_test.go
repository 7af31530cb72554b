package radicale

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartAuth(t *testing.T) {
	s := Start(t, map[string]string{"alice@example.com": "alice-pw"})

	cases := []struct {
		name       string
		user, pass string
		path       string
		want       int
	}{
		{name: "owner reads own principal", user: "alice@example.com", pass: "alice-pw", path: "alice@example.com/", want: http.StatusMultiStatus},
		{name: "wrong password", user: "alice@example.com", pass: "nope", path: "alice@example.com/", want: http.StatusUnauthorized},
		{name: "admin reads root", user: AdminUser, pass: s.AdminPassword, path: "", want: http.StatusMultiStatus},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), "PROPFIND", s.URL+tc.path, nil)
			require.NoError(t, err)
			req.Header.Set("Depth", "0")
			req.SetBasicAuth(tc.user, tc.pass)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tc.want, resp.StatusCode)
		})
	}
}
