package imapstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/dovecottest"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mailbox/imapstore"
	"github.com/eradicate-dev/eradicate/remediation"
)

func TestTmpProbe2(t *testing.T) {
	n := 30
	users := map[string]string{}
	var owners []string
	for i := range n {
		name := fmt.Sprintf("bench%03d@example.test", i)
		users[name] = "pw-" + name
		owners = append(owners, name)
	}
	srv := dovecottest.Start(t, &dovecottest.Options{Users: users})
	rng := rand.New(rand.NewPCG(1, 2))
	for _, o := range owners {
		for _, f := range []struct{ n string; c int }{{"INBOX", 1400}, {"Sent", 300}, {"Junk", 100}, {"Trash", 200}} {
			var raws [][]byte
			for k := 0; k < f.c; k++ {
				raws = append(raws, backgroundMessage(rng, o, k))
			}
			srv.WriteMaildir(o, f.n, raws)
		}
	}
	ctx := context.Background()
	srv.Doveadm(ctx, "force-resync", "-A", "*")
	srv.Doveadm(ctx, "search", "-A", "mailbox", "*", "header", "message-id", "warm@x")
	ids := []string{}
	for k := 0; k < 10; k++ {
		ids = append(ids, fmt.Sprintf("camp-%d@evil", k))
	}
	store, err := imapstore.New(imapstore.Config{Addr: srv.Addr, Security: imapstore.SecurityInsecure,
		Master: &imapstore.MasterUser{User: srv.MasterUser, Password: imapstore.Password(srv.MasterPassword)}, Mailboxes: owners})
	require.NoError(t, err)
	c := mailbox.Criteria{MessageIDs: ids}
	for round := 0; round < 2; round++ {
		plantB(t, srv, owners, ids)
		st := time.Now()
		var mu sync.Mutex
		found := map[string][]mailbox.Address{}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, o := range owners {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				for m, err := range store.Search(ctx, o, c) {
					require.NoError(t, err)
					mu.Lock()
					found[o] = append(found[o], m.Address)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		t.Log("search all parallel 8:", time.Since(st))
		st = time.Now()
		for _, o := range owners {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				_, err := store.Expunge(ctx, found[o])
				require.NoError(t, err)
			}()
		}
		wg.Wait()
		t.Log("expunge all parallel 8:", time.Since(st))
	}
	plantB(t, srv, owners, ids)
	j, _ := remediation.OpenFileJournal(filepath.Join(t.TempDir(), "j"), nil)
	e, _ := remediation.New(store, nil, j, &remediation.Options{Workers: 8})
	st := time.Now()
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "x", Confirm: true, Selection: remediation.Selection{Criteria: &c}})
	require.NoError(t, err)
	t.Log("engine:", time.Since(st), rec.Counts)
	plantB(t, srv, owners, ids)
	st = time.Now()
	srv.Doveadm(ctx, append([]string{"expunge", "-A", "mailbox", "*"}, orQuery(ids)...)...)
	t.Log("doveadm:", time.Since(st))
}

func plantB(t *testing.T, srv *dovecottest.Server, owners, ids []string) {
	for _, o := range owners {
		raws := make([][]byte, len(ids))
		for k, id := range ids {
			raws[k] = []byte("From: a@evil\r\nMessage-ID: <" + id + ">\r\nSubject: x\r\n\r\nx\r\n")
		}
		srv.WriteMaildir(o, "INBOX", raws)
	}
	srv.Doveadm(context.Background(), "mailbox", "status", "-A", "messages", "INBOX")
}
