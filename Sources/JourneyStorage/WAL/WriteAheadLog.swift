import Foundation
import JourneyCore
import Logging
import Synchronization

/// The append side of the write-ahead log, with group commit.
///
/// Appends from every connection go into one pending buffer under a mutex (`append` is
/// synchronous and cheap, and fixes the record's position); one dedicated flusher thread writes
/// the buffer with a single `write(2)`, then — with `fsync` durability — one `fdatasync(2)`, and
/// completes every waiter the write covered. So one sync covers every event that arrived while
/// the previous one ran. Durability policies (docs/DURABILITY.md):
///   - `fsync`: `waitDurable` returns after the sync that covers the record;
///   - `interval(d)`: returns after the write; the flusher syncs at least every `d`;
///   - `none`: returns after the write; synced only at rotation and close.
/// When a write or sync fails (a full disk), the log turns unavailable: waiters and new appends
/// fail fast with `.unavailable`, the unwritten bytes stay queued, and the flusher retries every
/// `retryInterval`, truncating any partial write first; it recovers by itself.
public final class WriteAheadLog: Sendable {
    public enum Durability: Sendable, Equatable {
        case fsync
        case interval(Duration)
        case none
    }

    public struct Metrics: Sendable, Equatable {
        public var appendedLSN: UInt64
        public var durableLSN: UInt64
        public var bytesWritten: UInt64
        public var syncs: UInt64
        public var failure: String?
    }

    private struct State {
        var pending: [UInt8] = []
        /// Log position after everything appended (including pending bytes).
        var appendedLSN: UInt64
        /// Everything up to here may be acknowledged under the durability policy.
        var ackedLSN: UInt64
        var waiters: [(lsn: UInt64, continuation: CheckedContinuation<Result<Void, WALError>, Never>)] = []
        var failure: String?
        var closing = false
        var closed = false
        var bytesWritten: UInt64 = 0
        var syncs: UInt64 = 0
        var removableBefore: UInt64 = 0
    }

    public let directory: String
    public let durability: Durability
    public let segmentBytes: UInt64
    public let retryInterval: Duration
    private let state: Mutex<State>
    private let wakeUp = NSCondition()
    private let logger: Logger
    private let fileSystem: WALFileSystem
    private let remover: SegmentRemover
    private let onSync: SyncObserver

    /// Called on the flusher thread with the duration of each successful sync (for metrics).
    public typealias SyncObserver = @Sendable (Duration) -> Void

    /// Opens the log for appending after `WALReader.replay` has repaired it.
    /// - Parameter scan: the reader's result: where the log ends and which segments exist.
    public init(
        directory: String, durability: Durability, scan: WALReader.Scan, segmentBytes: UInt64 = 64 << 20,
        retryInterval: Duration = .seconds(1), fileSystem: WALFileSystem = .posix, logger: Logger, onSync: @escaping SyncObserver = { _ in }
    ) throws(WALError) {
        self.onSync = onSync
        self.directory = directory
        self.durability = durability
        self.segmentBytes = segmentBytes
        self.retryInterval = retryInterval
        self.logger = logger
        self.fileSystem = fileSystem
        self.remover = SegmentRemover(logger: logger)
        self.state = Mutex(State(appendedLSN: scan.endLSN, ackedLSN: scan.endLSN))
        let writer = try SegmentWriter(directory: directory, scan: scan, fileSystem: fileSystem)
        DaemonThread.start("wal") { [self] in self.flushLoop(writer) }
    }

    /// Queues a batch of framed records and returns the log position after them. Fails fast while
    /// the log is unavailable. One lock and one wake-up per batch, whatever its size.
    public func append(_ batch: WALBatch) throws(WALError) -> UInt64 {
        let lsn: UInt64 = try state.withLock { (state) throws(WALError) -> UInt64 in
            if let failure = state.failure { throw .unavailable(reason: failure) }
            if state.closing { throw .closed }
            state.pending.append(contentsOf: batch.bytes)
            state.appendedLSN += UInt64(batch.bytes.count)
            return state.appendedLSN
        }
        notifyFlusher()
        return lsn
    }

    /// Wakes the flusher; signalled under the condition's lock so a wake-up is never lost
    /// between the flusher's emptiness check and its wait.
    private func notifyFlusher() {
        wakeUp.lock()
        wakeUp.signal()
        wakeUp.unlock()
    }

    /// Whether appends are currently accepted (false after a failed write until a retry succeeds).
    public var isAvailable: Bool { state.withLock { $0.failure == nil && !$0.closing } }

    /// The position after everything appended so far.
    public var appendedLSN: UInt64 { state.withLock { $0.appendedLSN } }

    public var metrics: Metrics {
        state.withLock { Metrics(appendedLSN: $0.appendedLSN, durableLSN: $0.ackedLSN, bytesWritten: $0.bytesWritten, syncs: $0.syncs, failure: $0.failure) }
    }

    /// Returns once everything up to `lsn` is durable under the policy; throws `.unavailable`
    /// if the log cannot be written now.
    public func waitDurable(_ lsn: UInt64) async throws(WALError) {
        let result: Result<Void, WALError> = await withCheckedContinuation { continuation in
            let immediate: Result<Void, WALError>? = state.withLock { state in
                if state.ackedLSN >= lsn { return .success(()) }
                if let failure = state.failure { return .failure(.unavailable(reason: failure)) }
                if state.closed { return .failure(.closed) }
                state.waiters.append((lsn, continuation))
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
        try result.get()
    }

    /// Segments wholly before `lsn` may be deleted (a snapshot covers them); the flusher deletes them.
    public func releaseSegments(before lsn: UInt64) {
        state.withLock { $0.removableBefore = max($0.removableBefore, lsn) }
        notifyFlusher()
    }

    /// Writes and syncs everything pending, then stops the flusher. Later appends fail with `.closed`.
    public func close() async {
        state.withLock { $0.closing = true }
        notifyFlusher()
        while !state.withLock({ $0.closed }) {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    // MARK: Flusher thread

    private func flushLoop(_ writer: SegmentWriter) {
        var writer = writer
        var lastSync = ContinuousClock.now
        var syncedLSN = writer.endLSN
        /// Bytes whose write failed; written again, first, on the next attempt.
        var carry: [UInt8] = []
        /// What appends wrote since the last round: swapped with the (emptied) pending buffer under
        /// the lock, so that both keep their capacity instead of a new buffer — and fresh pages to
        /// fault in — being allocated for every group commit.
        var drained: [UInt8] = []
        while true {
            drained.removeAll(keepingCapacity: true)
            let (closing, removable) = state.withLock { state -> (Bool, UInt64) in
                swap(&state.pending, &drained)
                return (state.closing, state.removableBefore)
            }
            let bytes = carry.isEmpty ? drained : carry + drained
            if !bytes.isEmpty || closing {
                do {
                    try writer.write(bytes, rotateAfter: segmentBytes)
                    carry = []
                    let mustSync: Bool
                    switch durability {
                    case .fsync: mustSync = true
                    case .interval(let every): mustSync = closing || ContinuousClock.now - lastSync >= every
                    case .none: mustSync = closing
                    }
                    if mustSync {
                        try timedSync(&writer)
                        lastSync = .now
                        syncedLSN = writer.endLSN
                    }
                    complete(upTo: durability == .fsync ? syncedLSN : writer.endLSN, bytes: UInt64(bytes.count), synced: mustSync)
                } catch {
                    carry = bytes
                    writer.discardPartialWrite()
                    markFailed(error)
                    if closing {
                        logger.error("WAL closed with unwritten records", metadata: ["bytes": "\(carry.count)"])
                    } else {
                        Thread.sleep(forTimeInterval: retryInterval.inSeconds)
                        continue
                    }
                }
            } else if case .interval(let every) = durability, writer.endLSN > syncedLSN, ContinuousClock.now - lastSync >= every {
                if (try? timedSync(&writer)) != nil {
                    lastSync = .now
                    syncedLSN = writer.endLSN
                    state.withLock { $0.syncs += 1 }
                }
            }
            remover.remove(writer.detachSegments(before: removable))
            if closing {
                remover.drain()
                finishClose()
                writer.closeFile()
                return
            }
            wakeUp.lock()
            if state.withLock({ $0.pending.isEmpty && !$0.closing }) {
                let timeout = if case .interval(let every) = durability { every.inSeconds } else { 1.0 }
                _ = wakeUp.wait(until: Date(timeIntervalSinceNow: max(timeout, 0.001)))
            }
            wakeUp.unlock()
        }
    }

    private func timedSync(_ writer: inout SegmentWriter) throws(WALError) {
        let started = ContinuousClock.now
        try writer.sync()
        onSync(ContinuousClock.now - started)
    }

    private func complete(upTo lsn: UInt64, bytes: UInt64, synced: Bool) {
        let (ready, recovered) = state.withLock { state in
            let recovered = state.failure != nil
            state.failure = nil
            state.ackedLSN = max(state.ackedLSN, lsn)
            state.bytesWritten += bytes
            if synced { state.syncs += 1 }
            let split = state.waiters.partition { $0.lsn > lsn }
            let ready = Array(state.waiters[..<split])
            state.waiters.removeSubrange(..<split)
            return (ready, recovered)
        }
        if recovered { logger.notice("WAL writable again", metadata: ["position": "\(lsn)"]) }
        for waiter in ready { waiter.continuation.resume(returning: .success(())) }
    }

    /// A failed write or sync: fail every waiter now and refuse appends until a retry succeeds.
    private func markFailed(_ error: any Error) {
        let reason = (error as? WALError)?.description ?? "\(error)"
        let (waiters, first) = state.withLock { state in
            let first = state.failure == nil
            state.failure = reason
            defer { state.waiters.removeAll() }
            return (state.waiters, first)
        }
        if first {
            logger.error("WAL write failed; refusing new events until it works again", metadata: ["error": "\(reason)"])
        }
        for waiter in waiters { waiter.continuation.resume(returning: .failure(.unavailable(reason: reason))) }
    }

    private func finishClose() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(returning: .failure(.closed)) }
    }
}
