// Package urlcanon unwraps rewritten links and puts URLs into the canonical
// form of the Google Safe Browsing API, so that two spellings of one link
// compare equal.
//
// # Unwrapping
//
// Mail security gateways rewrite every link of a message to go through
// their own redirector. [Unwrap] recovers the original link from the
// rewriters whose encoding is documented or evident, nesting up to
// [MaxUnwrap] levels:
//
//   - Microsoft Defender Safe Links: https://*.safelinks.protection.outlook.com/?url=...
//   - Proofpoint URL Defense v1 (/v1/url?u=...&k=...), v2 (/v2/url?u=..., with
//     "-" standing for "%" and "_" for "/") and v3 (/v3/__URL__;BYTES!...,
//     where "*" and "**X" stand for characters carried base64url-encoded
//     in BYTES)
//   - Google redirects: https://www.google.com/url?q=... (and url=)
//   - Barracuda Link Protection: https://linkprotect.cudasvc.com/url?a=...
//   - Cisco Secure Email (IronPort): https://secure-web.cisco.com/TOKEN/ENCODED-URL
//   - Trend Micro Click Time: https://*.trendmicro.com/wis/clicktime/v1/query?url=...
//   - Sophos Time-of-Click: https://*.protection.sophos.com/?d=...&u=BASE64...
//
// Mimecast (protect-*.mimecast.com/s/TOKEN) keeps the target on its own
// server; such links are kept as they are.
//
// # Canonicalisation
//
// [Canonicalize] follows "URLs and Hashing" of the Safe Browsing API v4:
// remove tab, CR and LF; drop the fragment; percent-unescape repeatedly;
// lower-case the host, strip its leading and trailing dots and collapse
// repeated dots; read numeric hosts (decimal, octal, hexadecimal, fewer
// than four parts) as IPv4 addresses; resolve "/./" and "/../" and
// collapse "//" in the path; escape bytes <= 0x20, >= 0x7f, "#" and "%".
// The port and any user information are dropped, as the spec's examples
// show. Two additions keep the result a fixed point ([Canonicalize] of a
// canonical URL returns it unchanged): an unescaped "?" in the path is
// escaped as %3F, and "/", "?", "@" and ":" in the host are escaped.
// Hosts with non-ASCII letters are converted to Punycode (IDNA).
//
// # Templates
//
// [Template] turns a path into a pattern where variable segments are
// replaced by a placeholder ({num}, {hex}, {uuid}, {email}, {b64}), so that
// links of one campaign that differ only by a per-recipient token share a
// template.
package urlcanon
