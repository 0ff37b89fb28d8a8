import Foundation

/// One snapshot's files being checked against its manifest (`SnapshotStore.verify`) on a thread of
/// its own, so that recovery can load the checkpoint meanwhile. The thread is a background one
/// (it runs when a core is idle, as it often is while the load waits on one of its stages), so it
/// does not slow the load down; reading and hashing two gigabytes had been seconds of every
/// restart. Created by `SnapshotStore.startVerifying`; `wait` may be called from any thread, and
/// every access to the outcome holds `condition`.
public final class SnapshotVerification: @unchecked Sendable {
    private let condition = NSCondition()
    private var outcome: Result<SnapshotManifest, SnapshotError>?

    init(directory: String) {
        DaemonThread.start("snapshot-verify", background: true) { [self] in
            let verdict = Result { () throws(SnapshotError) -> SnapshotManifest in try SnapshotStore.verify(directory: directory) }
            condition.lock()
            outcome = verdict
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Waits for the verdict: the verified manifest, or the first file that does not match it.
    public func wait() throws(SnapshotError) -> SnapshotManifest {
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil { condition.wait() }
        return try outcome!.get()
    }
}

extension SnapshotStore {
    /// Starts verifying snapshot `name` (see `verify`) in the background.
    public func startVerifying(_ name: String) -> SnapshotVerification {
        SnapshotVerification(directory: directory + "/" + name)
    }
}
