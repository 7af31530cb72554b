package mailbox

import "github.com/eradicate-dev/eradicate/mailbox/internal/linkscan"

// Limits on the work Parse does to find the links inside the attached
// files of one message, all files together (attached messages included).
// They bound what decompression bombs cost: a message may carry up to
// [MaxParts] files, so a limit per file would not. When one runs out, the
// files and parts of files not read yet are skipped and
// [Parsed.Truncated] is set; the message is not malformed for it.
const (
	// MaxInflatePerMessage caps the bytes decompressed from the attached
	// files of one message: the parts of Office documents read for links
	// and the compressed object streams of PDF files. Legitimate
	// documents inflate to a few megabytes at most.
	MaxInflatePerMessage = 16 << 20
	// MaxTokensPerMessage caps the markup read from the attached files
	// of one message: each tag, comment or processing instruction of an
	// Office document's XML parts counts one token, and each password
	// tried on an encrypted PDF file counts as many tokens as its key
	// derivation costs in reading tags: 1/64 of the budget for AES-256
	// (revisions 5 and 6), so at most 64 tries per message, 1/4096 for
	// RC4 and AES-128.
	MaxTokensPerMessage = 1 << 20
)

// The limits are linkscan's, which reads the links: these checks fail to
// compile when the two differ (a negative index is as much an error as
// one out of range).
var (
	_ = [1]struct{}{}[linkscan.MaxInflatePerMessage-MaxInflatePerMessage]
	_ = [1]struct{}{}[linkscan.MaxTokensPerMessage-MaxTokensPerMessage]
	_ = [1]struct{}{}[linkscan.MaxURLs-MaxURLs]
)
