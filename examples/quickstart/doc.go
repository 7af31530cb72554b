// Command quickstart shows eradicate's main job on an in-memory tenant: a
// day of mail arrives, including a phishing campaign that carries a
// malicious meeting invite; the security team hunts for the campaign,
// dry-runs, hunts in the events index (a crawler indexes every mailbox;
// hunts by the phishing URL and by the invite's file, and Explorer's counts
// per URL domain and per file, hour by hour), proposes a hard delete that a
// second person approves (the proposer's own approval is refused: four
// eyes), hard-deletes it (removing the calendar entries the invite created,
// but not the one a user imported; the index records the outcomes, and the
// phish's entity view shows every copy purged and by whom), releases a false
// positive from quarantine to one recipient (a second release to them says
// it was released already), soft-deletes a newsletter and undoes it,
// soft-deletes a partner's meeting invite together with the calendar entries
// it created and undoes that too (the entries come back), puts the delivery
// tap in front of the tenant with a detection rule that quarantines a
// gift-card lure before it lands (the quarantine says which rule holds it,
// and why) and releases it to one recipient, and prints the action center,
// whose short ids [remediation.Engine.Get] accepts.
//
// # Running
//
// Run it from the module root with:
//
//	go run ./examples/quickstart
package main
