package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/eradicate-dev/eradicate/api"
)

func initConfig(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "eradicate.toml", "the file to write (never overwritten)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tok, err := api.NewToken()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("init: %w (it is never overwritten)", err)
	}
	if _, err := fmt.Fprintf(f, sampleConfig, api.HashToken(tok)); err != nil {
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
