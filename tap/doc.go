// Package tap is eradicate's delivery tap: an LMTP server (RFC 2033) that
// sits between the mail transfer agent (Postfix, Exim) and the mail
// server's own LMTP service (Dovecot, Cyrus), and sees every message as
// it arrives.
//
//	MTA --LMTP--> tap --LMTP--> mail server
//
// For each message the tap:
//
//  1. reads it whole (up to [Options.MaxMessageBytes]; a client that goes
//     away mid-DATA gets nothing delivered) and parses it once
//     ([mailbox.Parse]) into a [Delivery];
//  2. passes the delivery to the [Indexer]s (the cluster index through
//     [ClusterIndexer]; an events index later), which run beside the
//     rest: under [DeliverUnchanged] the answer does not wait for them;
//  3. asks the [Decider] (the detection rules) for each recipient's
//     [Verdict]: [Deliver], [Junk] or [Quarantine], decided before the
//     message lands;
//  4. delivers it to the mail server through the [Downstream] ([LMTP]),
//     the quarantined and junked recipients into those folders, and
//     answers the client with each recipient's own status;
//  5. after the server accepted it: hands its invites to the
//     [InviteProcessor] for the recipients it was delivered to (not the
//     quarantined ones), where the mail server does not process invites
//     itself ([IMIP] wraps calendar/imipproc), and records the rules'
//     decisions in the action center through the [Recorder] ([Rules]
//     does), so that the quarantine shows why each message is held and a
//     release takes it out.
//
// # Nothing lost, nothing altered
//
// The tap never drops a message and never changes one. The mail server
// down or slow (beyond [Options.DownstreamTimeout]) gives each recipient
// a temporary failure (451 4.4.1), so that the MTA keeps the message and
// retries; the server's own refusal of a recipient (550 no such user, 452
// over quota) is passed on as it is. A failure of eradicate's own (the
// parser gives up, a decider or an indexer errors, panics or runs out of
// [Options.CheckTimeout]) is handled by [Options.OnFailure]: by default
// ([DeliverUnchanged]) the message is delivered unchanged, with the
// verdicts decided so far; with [TempFail] every recipient gets 451 4.3.0
// and the MTA retries until the failure is fixed. Failures after delivery
// (invite processing, records) are logged and counted in
// [Stats]; they never turn a delivered message into a failure, which would
// make the MTA deliver it twice.
//
// The bytes delivered are the bytes received: [LMTP] sends them with BDAT
// when the server offers CHUNKING (Dovecot does), else with DATA, changing
// nothing but the dot-stuffing DATA needs. [Options.TraceHeader] adds one
// header field at the top, and nothing else is ever added.
//
// # Limits
//
// Messages above [Options.MaxMessageBytes] are refused (552 5.3.4), more
// recipients than [Options.MaxRecipients] are deferred (452: the MTA sends
// them in another transaction), connections beyond
// [Options.MaxConnections] are refused with 421, and reads and writes
// time out after [Options.ReadTimeout] and [Options.WriteTimeout]. The
// defaults suit a mail server of a few thousand users.
//
// # Shutdown
//
// [Server.Shutdown] stops accepting connections and transactions (421:
// the MTA retries), lets every message in flight be delivered and
// answered, then closes the connections.
//
// # Putting the tap into Postfix and Dovecot
//
// docs/tap/postfix-main.cf and docs/tap/dovecot-lmtp.conf are the sample
// configuration the README explains and the end-to-end test runs: Postfix
// delivers the hosted domains with virtual_transport = lmtp:inet:<tap>,
// and Dovecot serves LMTP on loopback for the tap, with
// lmtp_save_to_detail_mailbox so that "user+Quarantine@domain" lands in
// the quarantine folder.
package tap
