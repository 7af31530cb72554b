// Package linkscan finds the links in the content of a message: plain
// text, HTML, PDF files (encrypted ones included) and Office Open XML
// documents. Its input is the attacker's: every reader is bounded by
// [MaxURLs] and by one budget per message for what attached files cost
// to read ([MaxInflatePerMessage], [MaxTokensPerMessage]), and the
// readers are fuzzed.
//
// mailbox.Parse is its user: the limits here are mailbox's exported ones,
// which the mailbox package holds equal to these.
package linkscan
