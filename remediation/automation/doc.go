// Package automation is the counterpart of Defender's automated
// investigation and response (AIR) for the remediation engine: given a
// cluster (package [github.com/eradicate-dev/eradicate/cluster]), a
// [Responder] soft-deletes it when the cluster's kind is enabled in its
// [Options], or quarantines it when the kind opts in
// ([Options.QuarantineKinds]). Only soft delete and quarantine run
// automatically ([ErrNotAutomatable] otherwise); a cluster over the size cap ([DefaultSizeCap] copies by
// default, or the engine's blast-radius limit when lower) is proposed for
// approval instead; members acted on within the cooldown
// ([DefaultCooldown] by default) are not acted on again, also after a
// restart: the cooldown is read back from the action center (the
// clusters themselves survive a restart with [cluster.Open]). Records name
// "automation" as source and decider ([remediation.SourceAutomation],
// [remediation.DecidedByAutomation]) and can be undone like any other
// action ([remediation.Engine.Undo]). [Responder.Remediate] says
// what it did with a [Decision].
//
// A Responder acts only through the engine's methods (Execute, Propose,
// Query).
package automation
