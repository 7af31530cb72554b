// Package cluster groups related messages into clusters, as Microsoft
// Defender's automated investigation (AIR) does, so that one verdict can
// remediate a whole campaign, and says for every member why it is there.
//
// # Indicators
//
// [Extract] reads from a parsed message ([mailbox.Parsed]) the
// [Indicators] clustering uses:
//
//   - URLs, unwrapped from rewriters (Safe Links, Proofpoint URL Defense
//     v1/v2/v3, Google, Barracuda, Cisco, Trend Micro, Sophos) and
//     canonicalised by the Safe Browsing rules; for each the registrable
//     domain (public suffix list), host+path and a path template in which
//     numbers, hex, UUIDs, e-mail addresses and base64 tokens are replaced
//     by placeholders ("evil.example/track/{num}/{b64}/open").
//   - Attachments: SHA-256, media type (sniffed from the content when
//     declared application/octet-stream), and a TLSH digest (files of at
//     least 50 bytes that TLSH can hash).
//   - Sender: registrable domains of the header From and the envelope
//     sender, and the IP of the first external hop of the Received chain
//     (private, loopback and shared ranges skipped).
//   - A body fingerprint: a 64-bit SimHash of word shingles of the visible
//     text and shingles of the HTML tag sequence ([BodyFingerprint]).
//
// Indicators may also be built directly, for example from a message trace.
//
// # Keys
//
// A key is one indicator that can link two messages ([Key], [KeyKind]).
// Exact keys link messages that carry the same value: same file
// (SHA-256), same canonical URL, same URL template (only templates with a
// placeholder and a literal part, "host/{b64}" alone says too little), and
// the similarity pairs subject + sender domain and subject + sender IP
// (subjects normalised: reply prefixes dropped, digits folded; at least
// two words). Similar keys link messages within a distance: similar file
// (same media type, TLSH distance at most [Options.FileDistance]) and the
// pairs body fingerprint + sender domain and body fingerprint + sender IP
// (Hamming distance at most 3).
//
// The index keeps keys as 64-bit hashes and joins messages with
// union-find. Similar keys are found with LSH buckets, never by comparing
// all pairs; candidates from a bucket are compared exactly. A SimHash is
// split into four 16-bit bands: any two fingerprints within Hamming
// distance 3 share one. A TLSH digest is looked up twice: by sixteen
// 2-byte bands of its body (near copies, at any index size; each bucket
// keeps a few representatives), and by 20 coarse bands, each nine of the
// 128 bucket codes reduced to one bit (code at least 1, 2 or 3). Files 60
// to 100 apart differ in half or more of their codes, nearly always by one
// quartile, so they rarely keep a 2-byte band but usually keep a coarse
// one. A coarse bucket keeps its 4 most recent files (with their
// digests, so that most candidates cost no memory access beyond the
// bucket): the lookup finds a similar file when its earlier relative is
// among the last few of its kind in one of 20 buckets, which holds for a
// campaign's files arriving together but not for a file that resembles
// one seen long before in a large index. This trades recall for cost:
// more or longer bands find more of the far pairs but cost every file
// more lookups. Measured (TestSimilarFileLookupRecall, one index per
// pair): pairs whose digests differ by one quartile in 50 of the 128
// codes (distance about 50) are all found, in 70 codes 98.4%, in 90 codes
// 86.8%; on the shared corpus every pair of files within distance 100
// ends up in one cluster.
//
// # Cluster kinds
//
// A [Kind] says which keys may link: [KindFile] (same and similar files:
// Defender's "similar files"), [KindURL] (same URL or template: "similar
// URLs"), [KindSimilarity] (the attribute pairs: "similarity") and
// [KindCampaign] (any). The index keeps one union-find per kind, so a
// cluster of one kind never grows through another kind's links.
//
// # Benign suppression
//
// A key shared by unrelated senders is a footer link, a logo, a CDN or a
// popular page, not a campaign: it links no messages by itself.
// [Index.MarkMalicious] overrides that for a key with a malicious verdict,
// and [Index.ClusterOf] treats its seed as such a verdict.
//
//   - A URL or URL template seen in mail from [Options.BenignDomains]
//     (default 3) distinct sender registrable domains is benign. Links
//     percolate: on 200,000 messages of the benchmark's synthetic mail
//     (footer links of every popularity), a limit of 20 chained 59% of
//     all mail into one cluster, while with 3 the largest cluster is the
//     largest campaign. A campaign that rotates sender domains is
//     therefore linked by its URL only from a seed or after a verdict.
//   - A file seen from [Options.BenignFileDomains] (default 20) distinct
//     sender domains is benign. Campaigns reuse one attachment across many
//     spoofed senders (up to 16 domains in one group of the shared
//     corpus); benign senders attach their own files.
//   - A sender IP that sends for [Options.SharedIPDomains] (default 20)
//     distinct domains is a shared relay (a mail provider, an ESP); the
//     subject+IP and body+IP pairs do not use it.
//   - A sender domain seen with [Options.SharedDomainSenders] (default
//     20) distinct From addresses is a mailbox provider (gmail.com): the
//     subject+domain and body+domain pairs do not use it.
//
// Some links are weak evidence in a message: a link to the domain the
// message claims to come from (phish that spoof a brand link to the
// brand's real site beside the lure; every newsletter links to its own
// site) and a bare site root ("https://docs.google.com/"). A message
// carrying a link only as weak evidence is not joined by it unless the
// link is marked malicious or is the seed. A link that one From address
// puts in its replies and forwards under three distinct subjects
// ([Options.BoilerplateSubjects]) is that person's boilerplate (a mail
// client's "Get Outlook for Android" link in every message they forward,
// a list member's home page) and joins nothing unless marked malicious; a
// bulk sender's kit links in fresh lures under changing subjects keep
// joining them. An attachment of fewer than 32 bytes (empty, a line
// break) links nothing: unrelated senders carry the same one by accident.
//
// Suppression is re-evaluated as mail arrives: when a key becomes benign
// the clusters are rebuilt without it on the next read. Inline images
// are not compared by TLSH (logos and signatures resemble each other),
// and a similar-file link counts only while both files are not benign.
//
// # Reasons
//
// A [Cluster] lists its members in the order they were reached from the
// seed. Every [Member] carries what a person needs to recognise it
// (subject, From address, sender domain, date, the sender IP it came
// from, the addresses of its copies) and the [Link] it joined by: the shared
// key, the distance for similar keys, and the member it joined through.
// [Cluster.Explain] follows the links back to the seed:
//
//	<c@x>: similar file T1A2B3… (distance 23) to <b@x> <- same URL http://evil.example/login as <a@x> <- seed
//
// # Use
//
// Add messages with [Index.Add] (incrementally as mail arrives),
// [Index.AddAll] (an iter.Seq of [Item]) or [Index.AddStore] (walks a
// [mailbox.Store]). Read the cluster of a seed — a message, a URL, a file
// hash — with [Index.ClusterOf], or all clusters with [Index.Clusters].
// Hand a cluster to the remediation engine with [Cluster.Criteria]
// (members by Message-ID) and [Cluster.Addresses] (the known copies).
//
// # Across restarts
//
// An index made by [New] lives in memory. [Open] makes one that survives
// a restart: it rebuilds the index from a [Log] (hunt/sqlstore keeps one
// beside the events index, in SQLite or PostgreSQL) and then queues in
// it what the index learns, each new message with its indicators and
// copies, each copy added later, each verdict; [Index.Flush] writes the
// queue (the delivery tap's indexer flushes after every message). The
// log holds the indicators, not the index's internal tables, so a
// restart replays the mail in its order and gets the same clusters,
// benign states and verdicts; a release that changes how messages are
// clustered re-clusters the same mail its own way. Replaying costs about
// what adding the mail cost: BenchmarkClusterRestart (hunt/sqlstore)
// rebuilds a million messages from a SQLite file in about 19
// CPU-seconds, from a log of about 460 bytes per message. Entries are
// versioned and a corrupt one stops Open with [ErrBadEntry] and its
// position.
//
// # Quality and cost
//
// On the shared corpus of real mail (cluster_corpus_test.go: 393 phishing
// messages and malicious invites, 312 ham) every group of byte-identical
// attachments is one file cluster and no ham message joins a phishing
// cluster of any kind. The default TLSH threshold (100) was chosen there:
// the pair recall of the ssdeep "similar attachment" groups is 0.54 at
// distance 30, 0.88 at 50 and 0.98 from 70 on (the pairs left are over
// 200 apart), while the nearest ham and phishing files of one media type
// are 157 apart. B-cubed against the exact and similar groups: file
// clusters precision 0.92, recall 0.99; campaign clusters precision 0.95,
// recall 0.98 over the 138 messages the truth labels, and precision 0.86,
// recall 0.99 over all 381 phishing messages (there the truth knows
// attachments only, so a campaign of attachment-less messages joined by
// its link or subject counts against precision however right it is). BenchmarkCluster
// measures a million synthetic messages (time, and heap per message,
// under 1 KiB).
package cluster
