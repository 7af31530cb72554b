package imapstore_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/eradicate-dev/eradicate/internal/dovecottest"
	"github.com/eradicate-dev/eradicate/mailbox"
)

func TestTmpProbe(t *testing.T) {
	owner := "probe@example.test"
	srv := dovecottest.Start(t, &dovecottest.Options{Users: map[string]string{owner: "pw"}})
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range []struct{ n string; c int }{{"INBOX", 1400}, {"Sent", 300}, {"Junk", 100}, {"Trash", 200}} {
		var raws [][]byte
		for k := 0; k < f.c; k++ {
			raws = append(raws, backgroundMessage(rng, owner, k))
		}
		srv.WriteMaildir(owner, f.n, raws)
	}
	srv.Doveadm(context.Background(), "force-resync", "-A", "*")
	srv.Doveadm(context.Background(), "search", "-A", "mailbox", "*", "header", "message-id", "warm@x")
	ids := []string{"a1@evil", "a2@evil", "a3@evil"}
	for round := 0; round < 2; round++ {
		st := time.Now()
		c := client(t, srv.Addr, srv.MasterLogin(owner), srv.MasterPassword)
		t.Log("login", time.Since(st))
		st = time.Now()
		_, err := c.List("", "*", &imap.ListOptions{ReturnStatus: &imap.StatusOptions{NumMessages: true}}).Collect()
		t.Log("list", time.Since(st), err)
		st = time.Now()
		_, err = c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
		t.Log("examine", time.Since(st), err)
		st = time.Now()
		_, err = c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: ids[0]}}}, nil).Wait()
		t.Log("search 1 id", time.Since(st), err)
		st = time.Now()
		_, err = c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: ids[1]}}}, nil).Wait()
		t.Log("search 1 id again", time.Since(st), err)
		st = time.Now()
		_, err = c.Select("INBOX", nil).Wait()
		t.Log("select rw", time.Since(st), err)
		st = time.Now()
		c.Close()
		d := startDovecot
		_ = d
		st = time.Now()
		srv.Doveadm(context.Background(), "search", "-u", owner, "mailbox", "*", "header", "message-id", "x@y")
		t.Log("doveadm search one user", time.Since(st))
		_ = mailbox.RoleInbox
	}
}

func TestTmpProbe3(t *testing.T) {
	owner := "probe@example.test"
	srv := dovecottest.Start(t, &dovecottest.Options{Users: map[string]string{owner: "pw"}})
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range []struct{ n string; c int }{{"INBOX", 1400}, {"Sent", 300}, {"Junk", 100}, {"Trash", 200}} {
		var raws [][]byte
		for k := 0; k < f.c; k++ {
			raws = append(raws, backgroundMessage(rng, owner, k))
		}
		srv.WriteMaildir(owner, f.n, raws)
	}
	srv.Doveadm(context.Background(), "force-resync", "-A", "*")
	for round := 0; round < 3; round++ {
		c := client(t, srv.Addr, srv.MasterLogin(owner), srv.MasterPassword)
		st := time.Now()
		c.List("", "*", nil).Collect()
		t.Log("plain list", time.Since(st))
		st = time.Now()
		c.List("", "*", &imap.ListOptions{ReturnStatus: &imap.StatusOptions{NumMessages: true}}).Collect()
		t.Log("list-status", time.Since(st))
		st = time.Now()
		for _, f := range []string{"Drafts", "Evidence", "Quarantine", "Recoverable Items"} {
			c.Select(f, &imap.SelectOptions{ReadOnly: true}).Wait()
		}
		t.Log("4 empty examines", time.Since(st))
		c.Close()
	}
}
