package corpus

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Env is the environment variable naming the corpus folder.
const Env = "ERADICATE_CORPUS"

// Dir returns the corpus folder, or skips (fails under CI=true) t when it
// is not available.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(Env)
	if dir == "" {
		missing(t, Env+" is not set; point it at the shared corpora folder (e.g. ../shared/corpora) to run corpus tests")
		return ""
	}
	if fi, err := os.Stat(filepath.Join(dir, "MANIFEST.jsonl")); err != nil || fi.IsDir() {
		missing(t, Env+"="+dir+" has no MANIFEST.jsonl")
		return ""
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
	return abs
}

// Path returns the path of a file or folder inside the corpus, skipping t
// as [Dir] does.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Dir(t)}, elem...)...)
}

// EachMessage calls fn with the path and bytes of every message (a .eml
// file) under each of the folders, given relative to dir, in lexical
// order within each folder. It fails t when a folder cannot be read.
func EachMessage(t testing.TB, dir string, folders []string, fn func(path string, raw []byte)) {
	t.Helper()
	for _, folder := range folders {
		err := filepath.WalkDir(filepath.Join(dir, folder), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".eml") {
				return err
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fn(path, raw)
			return nil
		})
		if err != nil {
			t.Fatalf("corpus: %v", err)
		}
	}
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("corpus required under CI: " + msg)
	}
	t.Skip(msg)
}
