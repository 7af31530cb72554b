package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// ClusterView is one cluster of related messages, as
// GET /eradicate/v1/clusters lists it.
type ClusterView struct {
	Seed     string           `json:"seed"`     // the message or indicator it grew from
	Kind     string           `json:"kind"`     // the kind of links it was built with
	Links    string           `json:"links"`    // the kinds of links its members joined by
	Messages int              `json:"messages"` // how many messages
	Copies   int              `json:"copies"`   // how many known copies
	Criteria mailbox.Criteria `json:"criteria"` // selects the cluster's messages, for an action
	// Members are the messages with why each is in the cluster; only
	// GET /eradicate/v1/clusters/of gives them.
	Members []ClusterMember `json:"members,omitempty"`
}

// ClusterMember is one message of a cluster.
type ClusterMember struct {
	MessageID string            `json:"message_id"` // normalized; "" when the message has none
	Copies    []mailbox.Address `json:"copies"`     // its known copies
	Why       string            `json:"why"`        // the chain of indicators that put it there
}

// ClusterList is the answer of GET /eradicate/v1/clusters.
type ClusterList struct {
	Value []ClusterView `json:"value"` // largest first
}

var clusterKinds = map[string]cluster.Kind{
	"":           cluster.KindCampaign,
	"campaign":   cluster.KindCampaign,
	"files":      cluster.KindFile,
	"urls":       cluster.KindURL,
	"similarity": cluster.KindSimilarity,
}

func (h *Handler) clusterIndex(c *call) (*cluster.Index, cluster.Kind, error) {
	if h.opts.Clusters == nil {
		return nil, 0, errorf(http.StatusNotImplemented, "NotImplemented", "this server has no cluster index")
	}
	q := c.r.URL.Query()
	for k := range q {
		if k != "kind" && k != "message_id" && k != "top" {
			return nil, 0, badRequest(fmt.Sprintf("unknown parameter %q (kind, message_id, top)", k))
		}
	}
	kind, ok := clusterKinds[q.Get("kind")]
	if !ok {
		return nil, 0, badRequest("kind is campaign, files, urls or similarity")
	}
	return h.opts.Clusters, kind, nil
}

func view(cl *cluster.Cluster, members bool) ClusterView {
	v := ClusterView{Seed: cl.Seed.String(), Kind: cl.Kind.String(), Links: cl.Links.String(),
		Messages: cl.Len(), Copies: cl.CopyCount(), Criteria: cl.Criteria()}
	if members {
		for i, m := range cl.Members {
			copies := m.Copies
			if copies == nil {
				copies = []mailbox.Address{}
			}
			v.Members = append(v.Members, ClusterMember{MessageID: m.MessageID, Copies: copies, Why: cl.Explain(i)})
		}
	}
	return v
}

func (h *Handler) clusters(c *call) error {
	x, kind, err := h.clusterIndex(c)
	if err != nil {
		return err
	}
	top := 100
	if s := c.r.URL.Query().Get("top"); s != "" {
		if top, err = strconv.Atoi(s); err != nil || top < 1 || top > 1000 {
			return badRequest("top must be a number from 1 to 1000")
		}
	}
	all := x.Clusters(kind)
	out := ClusterList{Value: make([]ClusterView, 0, min(len(all), top))}
	for _, cl := range all[:min(len(all), top)] {
		out.Value = append(out.Value, view(cl, false))
	}
	return c.json(http.StatusOK, out)
}

func (h *Handler) clusterOf(c *call) error {
	x, kind, err := h.clusterIndex(c)
	if err != nil {
		return err
	}
	id := c.r.URL.Query().Get("message_id")
	if id == "" || len(id) > 998 {
		return badRequest("message_id is required")
	}
	cl, err := x.ClusterOf(cluster.SeedMessage(id), kind)
	if err != nil {
		return errorf(http.StatusNotFound, "ResourceNotFound", err.Error())
	}
	return c.json(http.StatusOK, view(cl, true))
}
