package remediation

// JournalLocking says whether two opens of one journal exclude each other
// on this platform.
const JournalLocking = journalLocking
