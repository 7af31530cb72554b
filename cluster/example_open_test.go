package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eradicate-dev/eradicate/cluster"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
)

// An index that survives a restart: its log is kept beside the events
// index in a SQLite file. The second process opens the same file, finds
// the first half of the campaign and clusters the rest with it.
func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "cluster-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "index.db")
	lure := func(id, token string) *cluster.Indicators {
		u, _ := cluster.NewURL("https://login.evil.example/reset/" + token + "/go")
		return &cluster.Indicators{MessageID: id, Subject: "Reset your password", FromDomain: "bulk-mailer.example", URLs: []cluster.URL{u}}
	}

	store, _ := sqlstore.OpenSQLite(ctx, path, nil)
	x, _ := cluster.Open(ctx, store, nil)
	x.Add(lure("a@evil.example", "1111"))
	x.Add(lure("b@evil.example", "2222"))
	if err := x.Flush(ctx); err != nil {
		fmt.Println(err)
	}
	_ = store.Close()

	// A new process.
	store, _ = sqlstore.OpenSQLite(ctx, path, nil)
	defer store.Close()
	x, _ = cluster.Open(ctx, store, nil)
	fmt.Println("messages after the restart:", x.Len())
	x.Add(lure("c@evil.example", "3333"))
	_ = x.Flush(ctx)
	c, _ := x.ClusterOf(cluster.SeedMessage("c@evil.example"), cluster.KindURL)
	for _, m := range c.Members {
		fmt.Println(m.Name())
	}
	// Output:
	// messages after the restart: 2
	// <c@evil.example>
	// <a@evil.example>
	// <b@evil.example>
}
