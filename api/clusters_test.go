package api_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
)

func TestClusters(t *testing.T) {
	x := cluster.New(nil)
	for i, id := range []string{"a@evil.example", "b@evil.example", "c@evil.example"} {
		raw := "From: billing" + strconv.Itoa(i) + "@evil.example\r\nTo: alice@corp.example\r\nSubject: Invoice\r\nMessage-ID: <" + id + ">\r\n\r\nPay now: http://pay-evil.top/invoice?id=7\r\n"
		p, err := mailbox.Parse([]byte(raw))
		require.NoError(t, err)
		x.Add(cluster.Extract(p), mailbox.Address{Mailbox: "alice@corp.example", Folder: "INBOX", UIDValidity: 1, UID: uint32(i + 1)})
	}
	e := newEnvWith(t, func(*remediation.Engine) *api.Options { return &api.Options{Clusters: x} })
	var list api.ClusterList
	decodeResp(t, e.do("reader", "GET", "/eradicate/v1/clusters", nil), 200, &list)
	require.Len(t, list.Value, 1)
	assert.Equal(t, 3, list.Value[0].Messages)
	assert.Equal(t, 3, list.Value[0].Copies)
	assert.Empty(t, list.Value[0].Members)

	var cl api.ClusterView
	decodeResp(t, e.do("reader", "GET", "/eradicate/v1/clusters/of?message_id=%3Cb@evil.example%3E&kind=urls", nil), 200, &cl)
	require.Len(t, cl.Members, 3)
	assert.Equal(t, "b@evil.example", cl.Members[0].MessageID, "the seed first")
	assert.NotEmpty(t, cl.Members[1].Why)
	assert.ElementsMatch(t, []string{"a@evil.example", "b@evil.example", "c@evil.example"}, cl.Criteria.MessageIDs)

	graphError(t, e.do("reader", "GET", "/eradicate/v1/clusters/of?message_id=nope@x", nil), http.StatusNotFound)
	graphError(t, e.do("reader", "GET", "/eradicate/v1/clusters?kind=galaxy", nil), http.StatusBadRequest)
	graphError(t, e.do("reader", "GET", "/eradicate/v1/clusters/of", nil), http.StatusBadRequest)
	graphError(t, e.do("", "GET", "/eradicate/v1/clusters", nil), http.StatusUnauthorized)

	// Without an index: 501.
	e2 := newEnv(t, nil)
	graphError(t, e2.do("reader", "GET", "/eradicate/v1/clusters", nil), http.StatusNotImplemented)
}
