package tlsh

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eradicate-dev/eradicate/internal/testenv/corpus"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reference implementation, as Debian packages it (tlsh 3.4.4, built
// with 128 buckets and a 1-byte checksum): the Python module of
// python3-tlsh and the command-line tool of tlsh-tools.
const (
	refPython = "/usr/bin/python3"
	refTool   = "/usr/bin/tlsh"
	// refMinLength is the shortest input the 3.x reference hashes; this
	// package, like reference version 4, starts at MinLength.
	refMinLength = 256
)

// refScript reads a JSON request on stdin and answers on stdout:
// "files" are hashed ("" when the reference gives no digest), "pairs" of
// digest strings get diff and diffxlen, "lengths" get the reference's
// own length code through its l_capturing symbol (null when the shared
// library cannot be loaded).
const refScript = `
import ctypes, ctypes.util, json, sys
import tlsh
req = json.load(sys.stdin)
out = {"digests": [], "diff": [], "diffxlen": [], "lcap": None}
for path in req.get("files") or []:
    with open(path, "rb") as f:
        out["digests"].append(tlsh.hash(f.read()))
for a, b in req.get("pairs") or []:
    out["diff"].append(tlsh.diff(a, b))
    out["diffxlen"].append(tlsh.diffxlen(a, b))
if req.get("lengths"):
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("tlsh") or "libtlsh.so.0")
        f = lib._Z11l_capturingj
        f.argtypes = [ctypes.c_uint32]
        f.restype = ctypes.c_ubyte
        out["lcap"] = [f(n) for n in req["lengths"]]
    except (OSError, AttributeError):
        pass
json.dump(out, sys.stdout)
`

type refRequest struct {
	Files   []string    `json:"files,omitempty"`
	Pairs   [][2]string `json:"pairs,omitempty"`
	Lengths []uint32    `json:"lengths,omitempty"`
}

type refResponse struct {
	Digests  []string `json:"digests"`
	Diff     []int    `json:"diff"`
	DiffXLen []int    `json:"diffxlen"`
	LCap     []int    `json:"lcap"`
}

// requireReference skips t when the reference Python module is missing,
// or fails it when ERADICATE_REQUIRE_SERVERS=1.
func requireReference(t *testing.T) {
	t.Helper()
	err := exec.Command(refPython, "-c", "import tlsh").Run()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("reference TLSH not available (%s -c 'import tlsh': %v); install python3-tlsh and tlsh-tools", refPython, err)
	if os.Getenv("ERADICATE_REQUIRE_SERVERS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// askReference runs one reference process for the whole request.
func askReference(t *testing.T, req refRequest) refResponse {
	t.Helper()
	in, err := json.Marshal(req)
	require.NoError(t, err)
	cmd := exec.Command(refPython, "-c", refScript)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "reference script: %s", stderr.String())
	var resp refResponse
	require.NoError(t, json.Unmarshal(out, &resp))
	require.Len(t, resp.Digests, len(req.Files))
	require.Len(t, resp.Diff, len(req.Pairs))
	return resp
}

// toolDigests runs the reference command-line tool over a folder (tlsh -r)
// and returns the digest it printed for each file; files it refuses are
// absent. It returns nil when the tool is not installed.
func toolDigests(t *testing.T, dir string) map[string]string {
	t.Helper()
	if _, err := os.Stat(refTool); err != nil {
		t.Logf("%s not installed; checking against the Python module only", refTool)
		return nil
	}
	out, err := exec.Command(refTool, "-r", dir).Output()
	require.NoError(t, err)
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		digest, path, ok := strings.Cut(line, "\t")
		if ok {
			got[path] = digest
		}
	}
	return got
}

// refCase is one input compared with the reference.
type refCase struct {
	name string
	path string
	size int64
}

// compareDigests hashes every case with this package and checks the
// digests against the reference's. It returns the digests both agree on.
func compareDigests(t *testing.T, cases []refCase, tool map[string]string) []Digest {
	t.Helper()
	req := refRequest{}
	for _, c := range cases {
		req.Files = append(req.Files, c.path)
	}
	ref := askReference(t, req)
	var (
		digests               []Digest
		equal, refused, short int
		toolChecked           int
	)
	for i, c := range cases {
		data, err := os.ReadFile(c.path)
		require.NoError(t, err)
		got, err := Hash(data)
		want := ref.Digests[i]
		if tool != nil {
			if td, ok := tool[c.path]; ok || want != "" {
				assert.Equal(t, want, td, "%s: tlsh tool and Python module disagree", c.name)
				toolChecked++
			}
		}
		switch {
		case want != "":
			if assert.NoError(t, err, c.name) && assert.Equal(t, Version+want, got.String(), c.name) {
				equal++
				digests = append(digests, got)
			}
		case len(data) < refMinLength:
			// The 3.x reference refuses what version 4 and this package
			// hash; only the refusals must agree.
			if len(data) < MinLength {
				assert.ErrorIs(t, err, ErrTooShort, c.name)
			} else if err != nil {
				assert.ErrorIs(t, err, ErrNotComplex, c.name)
			}
			short++
		default:
			assert.ErrorIs(t, err, ErrNotComplex, "%s: the reference gives no digest", c.name)
			refused++
		}
	}
	t.Logf("%d inputs: %d digests equal to the reference, %d refused by both as not complex, %d shorter than the 3.x reference's %d-byte minimum; %d cross-checked with %s",
		len(cases), equal, refused, short, refMinLength, toolChecked, refTool)
	return digests
}

// compareDistances checks Diff and DiffNoLength against the reference
// for n random pairs of digests (all pairs when there are fewer).
func compareDistances(t *testing.T, digests []Digest, n int, seed uint64) {
	t.Helper()
	if len(digests) < 2 {
		t.Fatalf("only %d digests to compare", len(digests))
	}
	r := rand.New(rand.NewPCG(seed, 1))
	var pairs [][2]Digest
	if total := len(digests) * (len(digests) - 1) / 2; total <= n {
		for i := range digests {
			for j := i + 1; j < len(digests); j++ {
				pairs = append(pairs, [2]Digest{digests[i], digests[j]})
			}
		}
	} else {
		for range n {
			i, j := r.IntN(len(digests)), r.IntN(len(digests))
			pairs = append(pairs, [2]Digest{digests[i], digests[j]})
		}
	}
	// Random pairs are mostly far apart; add each digest's nearest
	// neighbour, so that the small distances that matter are covered.
	near := 0
	for i, a := range digests {
		best, bestDiff := -1, 0
		for j, b := range digests {
			if d := Diff(a, b); j != i && a != b && (best < 0 || d < bestDiff) {
				best, bestDiff = j, d
			}
		}
		if best >= 0 {
			pairs = append(pairs, [2]Digest{a, digests[best]})
			near++
		}
	}
	req := refRequest{}
	for _, p := range pairs {
		req.Pairs = append(req.Pairs, [2]string{p[0].String()[len(Version):], p[1].String()[len(Version):]})
	}
	ref := askReference(t, req)
	bad := 0
	for i, p := range pairs {
		if !assert.Equal(t, ref.Diff[i], Diff(p[0], p[1]), "Diff(%s, %s)", p[0], p[1]) ||
			!assert.Equal(t, ref.DiffXLen[i], DiffNoLength(p[0], p[1]), "DiffNoLength(%s, %s)", p[0], p[1]) {
			bad++
			if bad > 10 {
				t.FailNow()
			}
		}
	}
	t.Logf("%d distances (with and without length) equal to the reference, %d of them nearest neighbours", len(pairs), near)
}

// TestReferenceCorpus compares digests and distances with the reference
// for every file of the corpus as raw bytes and for every attachment of
// the messages under phishing/.
func TestReferenceCorpus(t *testing.T) {
	dir := corpus.Dir(t)
	requireReference(t)

	var files []refCase
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, refCase{name: strings.TrimPrefix(path, dir+"/"), path: path, size: info.Size()})
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, files)

	// Attachments, decoded, written out for the reference to read.
	attDir := t.TempDir()
	var atts []refCase
	messages := 0
	for _, f := range files {
		if !strings.HasPrefix(f.name, "phishing/") || !strings.HasSuffix(f.name, ".eml") {
			continue
		}
		raw, err := os.ReadFile(f.path)
		require.NoError(t, err)
		p, err := mailbox.Parse(raw)
		if p == nil {
			t.Logf("%s: %v", f.name, err)
			continue
		}
		messages++
		for i, a := range p.Attachments {
			path := filepath.Join(attDir, fmt.Sprintf("%04d-%02d", len(atts), i))
			require.NoError(t, os.WriteFile(path, a.Content, 0o600))
			atts = append(atts, refCase{name: fmt.Sprintf("%s attachment %d (%s)", f.name, i, a.MediaType), path: path, size: int64(len(a.Content))})
		}
	}
	require.NotEmpty(t, atts, "no attachments parsed from %d phishing messages", messages)
	t.Logf("%d corpus files, %d attachments from %d phishing messages", len(files), len(atts), messages)

	var digests []Digest
	t.Run("files", func(t *testing.T) {
		digests = append(digests, compareDigests(t, files, toolDigests(t, dir))...)
	})
	t.Run("attachments", func(t *testing.T) {
		digests = append(digests, compareDigests(t, atts, toolDigests(t, attDir))...)
	})
	t.Run("distances", func(t *testing.T) {
		compareDistances(t, digests, 2000, 2013)
	})
}

// TestReferenceEdgeCases compares inputs at the length limits, uniform
// and low-complexity inputs, a large input and inputs at the length-code
// breakpoints.
func TestReferenceEdgeCases(t *testing.T) {
	requireReference(t)
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(50, 49))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	text := func(n int) []byte {
		words := strings.Fields("click here to verify your account password invoice attached the and of")
		var b bytes.Buffer
		for b.Len() < n {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(" \n"[r.IntN(10)/9])
		}
		return b.Bytes()[:n]
	}
	large := make([]byte, 0, 10<<20)
	for len(large) < 10<<20 {
		large = append(large, text(64<<10)...)
		large = append(large, random(64<<10)...)
	}
	inputs := []struct {
		name string
		data []byte
	}{
		{"49 random bytes", random(49)},
		{"50 random bytes", random(50)},
		{"255 random bytes", random(255)},
		{"256 random bytes", random(256)},
		{"256 text bytes", text(256)},
		{"257 random bytes", random(257)},
		{"uniform 1000", bytes.Repeat([]byte{0xAA}, 1000)},
		{"uniform 1 MiB", make([]byte, 1<<20)},
		{"three-letter alphabet", []byte(strings.Repeat("abcabbcacbac", 100))},
		{"656 bytes", random(656)},
		{"657 bytes", random(657)},
		{"3199 bytes", text(3199)},
		{"3200 bytes", text(3200)},
		{"10 MiB mixed", large[:10<<20]},
	}
	// Random lengths, and low-complexity inputs drawn from small
	// alphabets, where bucket-count ties decide the quartiles.
	for i := range 40 {
		n := 256 + r.IntN(20000)
		data := random(n)
		if i%2 == 1 {
			k := 2 + r.IntN(6)
			for j := range data {
				data[j] = 'a' + data[j]%byte(k)
			}
		}
		inputs = append(inputs, struct {
			name string
			data []byte
		}{fmt.Sprintf("random %d", i), data})
	}
	var cases []refCase
	for i, in := range inputs {
		path := filepath.Join(dir, fmt.Sprintf("%02d", i))
		require.NoError(t, os.WriteFile(path, in.data, 0o600))
		cases = append(cases, refCase{name: in.name, path: path, size: int64(len(in.data))})
	}
	digests := compareDigests(t, cases, toolDigests(t, dir))
	compareDistances(t, digests, 2000, 7)

	// The streaming Hasher agrees on the large input written in odd pieces.
	var h Hasher
	for rest := large[:10<<20]; len(rest) > 0; {
		n := min(len(rest), 1+r.IntN(100000))
		_, _ = h.Write(rest[:n])
		rest = rest[n:]
	}
	streamed, err := h.Sum()
	require.NoError(t, err)
	whole, err := Hash(large[:10<<20])
	require.NoError(t, err)
	assert.Equal(t, whole, streamed)
}

// TestReferenceLengthTable checks the length code at every breakpoint
// against the reference library's own length function.
func TestReferenceLengthTable(t *testing.T) {
	requireReference(t)
	var lengths []uint32
	for _, top := range lengthTop {
		lengths = append(lengths, top)
		if top < MaxLength {
			lengths = append(lengths, top+1)
		}
		if top > 1 {
			lengths = append(lengths, top-1)
		}
	}
	ref := askReference(t, refRequest{Lengths: lengths})
	if ref.LCap == nil {
		msg := "the reference shared library does not export l_capturing"
		if os.Getenv("ERADICATE_REQUIRE_SERVERS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	require.Len(t, ref.LCap, len(lengths))
	for i, n := range lengths {
		require.Equal(t, ref.LCap[i], int(lengthCode(n)), "length %d", n)
	}
	t.Logf("%d lengths around the %d breakpoints agree", len(lengths), len(lengthTop))
}
