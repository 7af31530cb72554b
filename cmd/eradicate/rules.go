package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/remediation/rules"
)

// rulesCmd is `eradicate rules [list|add|enable|disable|delete]`.
func rulesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb := "list"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		verb, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("rules "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	connect, asJSON := clientFlags(fs)
	file := fs.String("file", "", "add: the rule as JSON (- for standard input)")
	var name string
	if verb != "list" && verb != "add" {
		if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
			return fmt.Errorf("rules %s: the rule's name is required", verb)
		}
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := connect()
	if err != nil {
		return err
	}
	path := "/eradicate/v1/rules/" + url.PathEscape(name)
	var rule rules.Rule
	switch verb {
	case "list":
		var list api.RuleList
		if _, err := c.call(ctx, "GET", "/eradicate/v1/rules", nil, &list); err != nil {
			return err
		}
		var rows [][]any
		for _, r := range list.Value {
			rows = append(rows, []any{r.Name, r.Action, r.Mode, !r.Disabled, r.Description})
		}
		return printList(stdout, *asJSON, list, "NAME\tACTION\tMODE\tENABLED\tDESCRIPTION", rows)
	case "add":
		if *file == "" {
			return errors.New("rules add: -file is required (the rule as JSON, - for standard input)")
		}
		var raw []byte
		if *file == "-" {
			raw, err = io.ReadAll(os.Stdin)
		} else {
			raw, err = os.ReadFile(*file)
		}
		if err != nil {
			return err
		}
		var r json.RawMessage
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("rules add: %s is not JSON: %w", *file, err)
		}
		if _, err := c.call(ctx, "POST", "/eradicate/v1/rules", r, &rule); err != nil {
			return err
		}
	case "enable", "disable":
		if _, err := c.call(ctx, "POST", path+"/"+verb, nil, &rule); err != nil {
			return err
		}
	case "delete":
		if _, err := c.call(ctx, "DELETE", path, nil, nil); err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, map[string]string{"deleted": name})
		}
		fmt.Fprintf(stdout, "deleted %s\n", name)
		return nil
	default:
		return fmt.Errorf("rules: unknown verb %q (list, add, enable, disable, delete)", verb)
	}
	if *asJSON {
		return printJSON(stdout, rule)
	}
	fmt.Fprintf(stdout, "%s: %s, %s, enabled %t\n", rule.Name, rule.Action, rule.Mode, !rule.Disabled)
	return nil
}

// loadRules reads the rules file; a missing file is no rules.
func loadRules(path string) ([]rules.Rule, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []rules.Rule
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("rules file %s: %w", path, err)
	}
	return list, nil
}

// saveRules writes the rules file atomically: a new file, synced, renamed
// over the old one.
func saveRules(path string, list []rules.Rule) error {
	if list == nil {
		list = []rules.Rule{}
	}
	raw, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
