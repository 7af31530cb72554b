// Package tlsh computes TLSH similarity digests and the distance between
// them, so that files which differ a little (a re-packed document, a
// malware sample with a changed string) can be found as "similar files".
//
// TLSH is the Trend Micro Locality Sensitive Hash of J. Oliver, C. Cheng
// and Y. Chen, "TLSH – A Locality Sensitive Hash", 4th Cybercrime and
// Trustworthy Computing Workshop, Sydney, 2013. This package implements
// the standard variant of the reference implementation (version 4
// output): 128 buckets, a 1-byte checksum, digests written as "T1"
// followed by 70 hex digits. Its digests and distances are those of the
// reference library byte for byte: the tests compare them with the
// reference tools (the tlsh command and the Python module) on every file
// and attachment of the project's mail corpus when those are installed,
// and with vectors the tools produced, kept in testdata, when not.
//
// # Use
//
// [Hash] digests a byte slice; a [Hasher] digests a stream. [Diff] and
// [DiffNoLength] compare two digests; [Parse] reads a digest back from
// its string. A distance of 0 means identical digests (the same or
// nearly the same input); small distances (under about 50 to 100) mean
// similar content. Unlike a cryptographic hash, a digest says something about
// its input: treat it as data derived from the file.
//
// # The digest
//
// A window of 5 bytes slides over the input. At every position past the
// fourth byte, six triplets are formed from the newest byte and two of
// the four before it — (0,1,2), (0,1,3), (0,2,3), (0,2,4), (0,1,4),
// (0,3,4), counting back from the newest — and each triplet is hashed with
// Pearson's 8-bit hash (the 256-byte permutation of P. K. Pearson, "Fast
// Hashing of Variable-Length Text Strings", CACM 33(6), 1990), salted
// with 2, 3, 5, 7, 11 and 13 respectively. The hash value picks one of 256
// buckets, whose count is incremented; only the first 128 buckets are
// used afterwards. A rolling checksum is the salt-0 Pearson hash of the
// newest byte, the byte before it and the previous checksum.
//
// At the end the quartiles q1 ≤ q2 ≤ q3 of the 128 bucket counts are
// taken (the 32nd, 64th and 96th smallest counts), and each bucket gets a
// 2-bit code: 0 when its count is at most q1, 1 up to q2, 2 up to q3 and
// 3 above. The 128 codes form the 32-byte body. The header holds the
// checksum, an 8-bit logarithmic code of the input length (log base 1.5
// up to 656 bytes, base 1.3 up to 3199 bytes, base 1.1 above), and the
// ratios q1*100/q3 and q2*100/q3 modulo 16. In the hex string the header
// bytes have their two nibbles swapped and the body bytes come last
// first, as in the reference.
//
// An input shorter than [MinLength] (50) bytes has no digest
// ([ErrTooShort]), nor has one whose triplets fill no more than half of
// the 128 buckets ([ErrNotComplex]; a run of one byte, a short repeated
// pattern), nor one longer than [MaxLength] ([ErrTooLong]). The
// reference before version 4, still shipped by some distributions,
// required 256 bytes; from 256 bytes on both agree.
//
// # The distance
//
// The distance adds: the circular difference of the length codes (0 or
// 1 as is, larger differences times 12; [DiffNoLength] leaves this part
// out), the circular differences of the two quartile ratios modulo 16 (0
// or 1 as is, otherwise (d-1)*12), 1 when the checksums differ, and for
// each of the 128 bucket codes their absolute difference, except that 0
// against 3 counts 6.
//
// # Concurrency
//
// A [Digest] is a comparable value, safe to share. A [Hasher] must not
// be used by several goroutines at once. The package has no mutable
// state.
package tlsh
