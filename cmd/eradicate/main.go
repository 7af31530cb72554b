// Command eradicate runs eradicate's HTTP API as a service and talks to it.
//
//	eradicate init [-o eradicate.toml]       write a commented sample config with a new admin token
//	eradicate token -name N -roles R[,R]     make a new API token and its [[token]] entry
//	eradicate serve -config eradicate.toml   run the API, the engine, resume at start
//	eradicate verify -config eradicate.toml  check the journal's tamper-evident chain (exit 1 when broken)
//
// The admin subcommands call the API at $ERADICATE_URL (default
// http://127.0.0.1:8750) with the token in $ERADICATE_TOKEN (or -token-file);
// each prints a table, or JSON with -json:
//
//	eradicate hunt      [-filter F] [-top N] [-message-id M] [-sender S] [-recipient R] [-subject S] [-since T]
//	                                                   copies from the events index ([hunt] in the config), newest first
//	eradicate dryrun    [criteria]                     what a selection selects, per mailbox and folder
//	eradicate remediate -action A [-propose] [criteria] run (or propose) an action and wait for it
//	eradicate actions   [-status S] [-top N]           the action center
//	eradicate show      ID [-outcomes]                 one action (and its per-copy outcomes)
//	eradicate approve   ID                             approve a proposal (not your own) and wait
//	eradicate decline   ID [-reason R]                 decline a proposal
//	eradicate undo      ID                             undo an action and wait
//	eradicate held                                     what quarantine holds
//	eradicate release   -message-id M [-recipients R]  release held messages and wait
//	eradicate rules     [list|add -file F|enable N|disable N|delete N]  the detection rules
//	eradicate clusters  [-of MESSAGE-ID] [-kind K]     clusters of related messages (from the tap)
//
// Criteria: -message-id, -sender, -sender-domain, -subject, -mailbox
// (lists are comma-separated or the flag repeated). Commands that wait for
// an action (remediate, approve, undo, release) draw a progress bar on
// standard error when it is a terminal, never with -json. -ca (or
// $ERADICATE_CA) names the CAs of an API served with a private
// certificate.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "eradicate:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: eradicate <command> [flags]

  init       write a commented sample config (eradicate.toml) with a new admin token
  token      make a new API token
  serve      run the API (-config eradicate.toml)
  verify     check the journal's tamper-evident chain (-config eradicate.toml)

  hunt       copies from the events index      dryrun     what a selection selects
  remediate  run or propose an action
  actions    the action center                 show       one action (-outcomes)
  approve    approve a proposal                decline    decline a proposal
  undo       undo an action
  held       what quarantine holds             release    release held messages
  rules      detection rules: list, add -file, enable, disable, delete
  clusters   clusters of related messages (-of MESSAGE-ID: one, with reasons)

"eradicate <command> -h" describes a command's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stderr)
	case "init":
		return initConfig(rest, stdout, stderr)
	case "token":
		return newTokenCmd(rest, stdout, stderr)
	case "rules":
		return rulesCmd(ctx, rest, stdout, stderr)
	case "hunt":
		return huntCmd(ctx, rest, stdout, stderr)
	case "verify":
		return verifyCmd(ctx, rest, stdout, stderr)
	case "dryrun", "remediate", "actions", "show", "approve", "decline", "undo", "held", "release", "clusters":
		return client(ctx, cmd, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
