// Package corpus finds the shared corpus of real mail that tests read.
//
// # Use
//
// Tests call [Dir]; it returns the folder named by the ERADICATE_CORPUS
// environment variable. When the variable is unset or the folder is missing
// the test is skipped with a message, except under CI (CI=true), where it
// fails: CI must always test against the corpus.
package corpus
