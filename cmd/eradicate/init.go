package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

func initConfig(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "eradicate.toml", "the file to write (never overwritten)")
	keyFile := fs.String("journal-key", "", "also write a new journal key to this file (never overwritten) and name it in the config")
	if err := fs.Parse(args); err != nil {
		return err
	}
	keyLine := `# journal_key = "/var/lib/eradicate/journal.key"`
	if *keyFile != "" {
		if _, err := os.Stat(*out); err == nil {
			return fmt.Errorf("init: %s exists (it is never overwritten)", *out)
		}
		if _, err := journal.WriteKeyFile(*keyFile); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		abs, err := filepath.Abs(*keyFile)
		if err != nil {
			return err
		}
		keyLine = fmt.Sprintf("journal_key = %q", abs)
		fmt.Fprintf(stdout, "wrote the journal key %s (keep a copy elsewhere: without it the journal cannot be verified)\n", abs)
	}
	tok, err := api.NewToken()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("init: %w (it is never overwritten)", err)
	}
	if _, err := fmt.Fprintf(f, sampleConfig, keyLine, api.HashToken(tok)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s; edit [imap] (or use [mock]).\nThe admin token, shown once (only its hash is in the file):\n\n  export ERADICATE_TOKEN=%s\n", *out, tok)
	return nil
}

func newTokenCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "the identity, e.g. alice@corp.example (required)")
	roles := fs.String("roles", "reader", "comma-separated roles: reader, analyst, approver, admin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("token: -name is required")
	}
	var rs []string
	for r := range strings.SplitSeq(*roles, ",") {
		r = strings.TrimSpace(r)
		if !api.Role(r).Valid() {
			return fmt.Errorf("token: unknown role %q (reader, analyst, approver, admin)", r)
		}
		rs = append(rs, fmt.Sprintf("%q", r))
	}
	tok, err := api.NewToken()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# token for %s (give it to them; it is not stored): %s\n[[token]]\nname = %q\nsha256 = %q\nroles = [%s]\n",
		*name, tok, *name, api.HashToken(tok), strings.Join(rs, ", "))
	return nil
}
