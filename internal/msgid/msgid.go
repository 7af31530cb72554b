// Package msgid holds the one rule by which eradicate compares
// Message-IDs, shared by the mailbox and calendar packages (which may not
// import each other). Library users call mailbox.NormalizeMessageID.
package msgid

import "strings"

// Trim returns id without surrounding white space and one pair of angle
// brackets: the id as the message wrote it, for records that keep it
// (calendar provenance). It is not a comparison form.
func Trim(id string) string {
	id = strings.TrimSpace(id)
	id = strings.TrimPrefix(id, "<")
	id = strings.TrimSuffix(id, ">")
	return strings.TrimSpace(id)
}

// Normalize returns the comparison form of a Message-ID: [Trim], then
// lower-cased with strings.ToLower. RFC 5322 makes the local part
// case-sensitive, but mail systems rewrite its case, and an id is matched
// to find copies of one message, so eradicate compares ids without case:
// two ids name the same message when their normalized forms are equal and
// not empty.
func Normalize(id string) string {
	return strings.ToLower(Trim(id))
}
