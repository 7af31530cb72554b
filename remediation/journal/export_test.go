package journal

// Locking says whether two opens of one journal exclude each other on
// this platform.
const Locking = journalLocking

// MaxFrame is the largest payload of an entry.
const MaxFrame = maxFrame
