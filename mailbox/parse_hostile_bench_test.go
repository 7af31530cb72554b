package mailbox_test

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"crypto/rc4"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Attachment bombs, built here rather than committed: small files whose
// compressed parts inflate to many megabytes.

// docxBomb returns an Office document whose word/document.xml inflates
// to about xmlSize bytes of repetitive markup, with one external
// hyperlink in its relationships.
func docxBomb(tb testing.TB, xmlSize int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("[Content_Types].xml")
	w.Write([]byte(`<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`))
	w, _ = zw.Create("word/_rels/document.xml.rels")
	w.Write([]byte(`<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://bomb.example/docx" TargetMode="External"/></Relationships>`))
	w, _ = zw.Create("word/document.xml")
	head := `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`
	unit := `<w:p><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">lorem ipsum </w:t></w:r></w:p>`
	w.Write([]byte(head))
	chunk := []byte(strings.Repeat(unit, 1024))
	for n := len(head); n < xmlSize; n += len(chunk) {
		w.Write(chunk)
	}
	w.Write([]byte(`</w:body></w:document>`))
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// pdfBomb returns a PDF with streams object streams (/Type /ObjStm,
// FlateDecode) that each inflate to size bytes of white space. When
// encrypted it is encrypted with the empty user password (standard
// security handler, revision 2, RC4), which readers open without asking.
func pdfBomb(tb testing.TB, streams, size int) []byte {
	tb.Helper()
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	chunk := bytes.Repeat([]byte(" "), 1<<16)
	for n := 0; n < size; n += len(chunk) {
		zw.Write(chunk)
	}
	zw.Close()
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	for k := 1; k <= streams; k++ {
		fmt.Fprintf(&b, "%d 0 obj\n<</Type/ObjStm/N 1/First 0/Filter/FlateDecode/Length %d>>\nstream\n", k, z.Len())
		b.Write(z.Bytes())
		b.WriteString("\nendstream\nendobj\n")
	}
	b.WriteString("trailer\n<</Root 1 0 R>>\n%%EOF\n")
	return b.Bytes()
}

// encryptedPDFBomb is pdfBomb encrypted with the empty user password.
func encryptedPDFBomb(tb testing.TB, streams, size int) []byte {
	tb.Helper()
	padding := []byte("\x28\xBF\x4E\x5E\x4E\x75\x8A\x41\x64\x00\x4E\x56\xFF\xFA\x01\x08\x2E\x2E\x00\xB6\xD0\x68\x3E\x80\x2F\x0C\xA9\xFE\x64\x53\x69\x7A")
	id := []byte("0123456789abcdef")
	xor := func(key, data []byte) []byte {
		c, _ := rc4.NewCipher(key)
		out := make([]byte, len(data))
		c.XORKeyStream(out, data)
		return out
	}
	sum := func(parts ...[]byte) []byte {
		s := md5.Sum(bytes.Join(parts, nil))
		return s[:]
	}
	o := xor(sum(padding)[:5], padding)
	key := sum(padding, o, []byte{0xfc, 0xff, 0xff, 0xff}, id)[:5]
	u := xor(key, padding)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	chunk := bytes.Repeat([]byte(" "), 1<<16)
	for n := 0; n < size; n += len(chunk) {
		zw.Write(chunk)
	}
	zw.Close()
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	for k := 1; k <= streams; k++ {
		data := xor(sum(key, []byte{byte(k), 0, 0, 0, 0})[:10], z.Bytes())
		fmt.Fprintf(&b, "%d 0 obj\n<</Type/ObjStm/N 1/First 0/Filter/FlateDecode/Length %d>>\nstream\n", k, len(data))
		b.Write(data)
		b.WriteString("\nendstream\nendobj\n")
	}
	fmt.Fprintf(&b, "%d 0 obj\n<</Filter/Standard/V 1/R 2/O <%x>/U <%x>/P -4>>\nendobj\n", streams+1, o, u)
	fmt.Fprintf(&b, "trailer\n<</Encrypt %d 0 R/ID[<%s><%s>]>>\n%%%%EOF\n", streams+1, hex.EncodeToString(id), hex.EncodeToString(id))
	return b.Bytes()
}

// r6PDF returns a PDF encrypted with AES-256 (revision 6) whose user
// password is none that a message gives: each password candidate costs a
// full key derivation.
func r6PDF(tb testing.TB, seed int) []byte {
	tb.Helper()
	u := strings.Repeat(fmt.Sprintf("%02x", seed%256), 48)
	ue := strings.Repeat("ab", 32)
	return []byte("%PDF-2.0\n1 0 obj\n<</Filter/Standard/V 5/R 6/Length 256/O <" + u + ">/U <" + u + ">/UE <" + ue + ">/OE <" + ue + ">/P -4>>\nendobj\n" +
		"2 0 obj\n<</Type/Annot/Subtype/Link/A<</S/URI/URI <00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff>>>>>\nendobj\n" +
		"trailer\n<</Encrypt 1 0 R/ID[<00112233><00112233>]>>\n%%EOF\n")
}

// hostileMessage returns a message with a short text part (which may give
// passwords) and the files attached in base64.
func hostileMessage(text, mediaType, ext string, files [][]byte) []byte {
	var b strings.Builder
	b.WriteString("From: a@bomb.example\r\nTo: b@corp.example\r\nSubject: bombs\r\nMessage-ID: <bomb@bomb.example>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n" + text + "\r\n")
	for i, f := range files {
		fmt.Fprintf(&b, "--b\r\nContent-Type: %s; name=\"f%d%s\"\r\nContent-Disposition: attachment; filename=\"f%d%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", mediaType, i, ext, i, ext)
		enc := base64.StdEncoding.EncodeToString(f)
		for j := 0; j < len(enc); j += 76 {
			b.WriteString(enc[j:min(j+76, len(enc))])
			b.WriteString("\r\n")
		}
	}
	b.WriteString("--b--\r\n")
	return []byte(b.String())
}

const docxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

// bombMessages are the messages of BenchmarkParseHostile: about 1 MB
// each, with 16 attachment bombs.
func bombMessages(tb testing.TB) map[string][]byte {
	docx := docxBomb(tb, 16<<20)
	docxs := make([][]byte, 16)
	for i := range docxs {
		docxs[i] = docx
	}
	pdfs := make([][]byte, 16)
	encs := make([][]byte, 16)
	r6s := make([][]byte, 16)
	pdf, enc := pdfBomb(tb, 3, 16<<20), encryptedPDFBomb(tb, 3, 16<<20)
	for i := range pdfs {
		pdfs[i], encs[i], r6s[i] = pdf, enc, r6PDF(tb, i)
	}
	words := "Passwort: a1 b2 c3 d4\r\nSenha: e5 f6 g7 h8\r\nClave: i9 j10 k11 l12\r\nPassword: m13 n14 o15 p16\r\n"
	return map[string][]byte{
		"docx-bombs":      hostileMessage("See the files.", docxType, ".docx", docxs),
		"pdf-bombs":       hostileMessage("See the files.", "application/pdf", ".pdf", pdfs),
		"pdf-bombs-rc4":   hostileMessage("See the files.", "application/pdf", ".pdf", encs),
		"pdf-r6-password": hostileMessage(words, "application/pdf", ".pdf", r6s),
	}
}

// BenchmarkParseHostile parses messages of about 1 MB that carry 16
// attachment bombs each; run with -cpu 1. It reports the CPU time per
// message (cpu-ms/msg), garbage collection included, beside ns/op and
// B/op. BenchmarkParse gives the figures of ordinary messages.
func BenchmarkParseHostile(b *testing.B) {
	msgs := bombMessages(b)
	for _, name := range []string{"docx-bombs", "pdf-bombs", "pdf-bombs-rc4", "pdf-r6-password"} {
		raw := msgs[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				if p, _ := mailbox.Parse(raw); p == nil {
					b.Fatal("nil")
				}
			}
			if cpu := processCPU() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/msg")
			}
		})
	}
	b.Run("ordinary-newsletter", func(b *testing.B) { benchmarkOne(b, benchNewsletter()) })
	b.Run("ordinary-attachment", func(b *testing.B) { benchmarkOne(b, benchAttachment()) })
}

func benchmarkOne(b *testing.B, raw []byte) {
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if p, _ := mailbox.Parse(raw); p == nil {
			b.Fatal("nil")
		}
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/msg")
	}
}

// TestBombMessagesAreAboutOneMegabyte keeps the benchmark honest about
// the size of its messages.
func TestBombMessagesAreAboutOneMegabyte(t *testing.T) {
	for name, m := range bombMessages(t) {
		t.Logf("%s: %d bytes", name, len(m))
	}
}
