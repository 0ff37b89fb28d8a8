import JourneyCore
import JourneyStorage
import Logging

/// The single writer: owns the `Stitcher` (identity graph + journey store) and the append side of
/// the write-ahead log. Each batch is logged and applied in one step, so the state always equals
/// "the WAL up to `appendedLSN`" — which is what makes a snapshot a consistent cut.
///
/// An actor, so there are no locks on the hot path: ingest tasks parse, validate and frame WAL
/// records in parallel and hand each request's events over in one `ingest` call, then wait for
/// durability outside the actor (`Receipt.waitDurable`), so a slow fsync never blocks the writer.
///
/// Components that late events reached are re-resolved lazily (`Stitcher.settle`): within
/// `settleDelay` or once `settleBacklog` are waiting, and always before anything reads the
/// profiles (lookups, stats, a snapshot cut, an operation). A burst of late events for one
/// customer — a phone's offline queue, an hourly export — then costs one re-resolution.
public actor IngestEngine {
    /// What `ingest` did with a batch, and how to wait until it may be acknowledged.
    public struct Receipt: Sendable {
        /// How many of the batch's events were already stored (accepted again, stored once).
        public var duplicates: Int
        /// Indexes (into the batch) of events refused because they carry an identifier an erasure
        /// suppressed; they were neither logged nor stored.
        public var suppressed: [Int] = []
        /// The WAL position after this batch (for an all-duplicate batch: after everything logged
        /// so far, so a duplicate of a not-yet-durable event is not acknowledged early).
        public var position: UInt64
        let wal: WriteAheadLog

        public func waitDurable() async throws(WALError) {
            try await wal.waitDurable(position)
        }
    }

    /// Why a batch cannot be taken now; both answer 503 with Retry-After.
    public enum Unavailable: Error, CustomStringConvertible {
        case starting
        case wal(WALError)

        public var description: String {
            switch self {
            case .starting: return "journeyd is starting (recovering its state); retry shortly"
            case .wal(let error): return error.description
            }
        }
    }

    public struct Stats: Sendable {
        public var stitcher: Stitcher.Counters
        public var profiles: Int
        public var identifiers: Int
        public var touchpoints: Int
        public var rejected: Int
        public var sharedIdentifiers: Int
        public var suppressedIdentifiers: Int
        public var wal: WriteAheadLog.Metrics?
    }

    private var stitcher: Stitcher
    private var wal: WriteAheadLog?
    private var rejected = 0
    private let logger: Logger
    /// When the oldest component still waiting to be re-resolved was reached.
    private var unsettledSince: ContinuousClock.Instant?
    static let settleDelay = Duration.milliseconds(50)
    static let settleBacklog = 1024

    public init(policy: IdentityPolicy, maxTouchpointsPerProfile: Int, logger: Logger) {
        self.stitcher = Stitcher(policy: policy, maxTouchpointsPerProfile: maxTouchpointsPerProfile)
        self.logger = logger
    }

    /// Loads the newest valid snapshot and replays the WAL; ingest is refused until this returns.
    func recover(
        configuration: JourneydConfiguration, skipCorruptWAL: Bool, logger: Logger, onWALSync: @escaping WriteAheadLog.SyncObserver
    ) throws {
        let result = try Recovery.run(configuration: configuration, skipCorruptWAL: skipCorruptWAL, logger: logger, onWALSync: onWALSync)
        stitcher = result.stitcher
        wal = result.wal
    }

    public var isRecovered: Bool { wal != nil }

    /// Logs the batch's new events to the WAL and stitches them, in order. Events carrying an
    /// identifier suppressed by an erasure are refused (`Receipt.suppressed`).
    /// The caller hands the batch over (`consume`), so that its events are stored without copies.
    public func ingest(_ batch: consuming IngestBatch) throws(Unavailable) -> Receipt {
        guard let wal else { throw .starting }
        var kept: [NormalisedEvent]
        let records: WALBatch
        (kept, records) = batch.parts()
        // One call each into the stitcher per batch: reading the actor's stored stitcher inside a
        // per-event loop would copy it (retaining every table) for each event.
        let suppressed = stitcher.suppressedIndices(in: kept)
        // Positions in the batch of the events kept, when some were refused (rare).
        var keptPositions: [Int]?
        if !suppressed.isEmpty {
            let positions = kept.indices.filter { !suppressed.contains($0) }
            kept = positions.map { kept[$0] }
            keptPositions = positions
        }
        let unstored = stitcher.unstored(in: kept)
        let logged = keptPositions.map { positions in unstored.indices.map { positions[$0] } } ?? unstored.indices
        let position: UInt64
        do {
            position = try wal.append(records.records(at: logged))
        } catch {
            throw .wal(error)
        }
        let duplicates = stitcher.apply(consume kept, unstored: unstored, settling: false)
        settleIfDue()
        logNotices()
        return Receipt(duplicates: duplicates, suppressed: suppressed, position: position, wal: wal)
    }

    private func settleIfDue() {
        guard stitcher.unsettledCount > 0 else { return }
        let now = ContinuousClock.now
        let since = unsettledSince ?? now
        unsettledSince = since
        if stitcher.unsettledCount >= Self.settleBacklog || now - since >= Self.settleDelay { settle() }
    }

    /// Re-resolves what is waiting, so that what is read next is the canonical state.
    private func settle() {
        stitcher.settle()
        unsettledSince = nil
    }

    /// Checks an operator's erasure or split, logs it to the WAL, performs it, and answers with
    /// what it did and how to wait until it is durable.
    public func perform(_ operation: StitcherOperation) throws(OperationRefusal) -> (StitcherOperationResult, Receipt) {
        guard let wal else { throw .unavailable(.starting) }
        settle()
        do {
            try stitcher.check(operation)
        } catch {
            throw .refused(error)
        }
        let recorded = RecordedOperation(operation, at: .now)
        var batch = WALBatch()
        batch.add(.operation) { recorded.encode(into: &$0) }
        let position: UInt64
        do {
            position = try wal.append(batch)
        } catch {
            throw .unavailable(.wal(error))
        }
        let result: StitcherOperationResult
        do {
            result = try stitcher.perform(operation, at: recorded.at)
        } catch {
            // Checked just above on the same state, so this cannot happen; answer it all the same.
            throw .refused(error)
        }
        logger.info("profile operation", metadata: ["operation": "\(operation.summary)"])
        logNotices()
        return (result, Receipt(duplicates: 0, position: position, wal: wal))
    }

    /// Why an operation was not performed.
    public enum OperationRefusal: Error, CustomStringConvertible {
        case refused(StitcherOperationError)
        case unavailable(Unavailable)

        public var description: String {
            switch self {
            case .refused(let error): return error.description
            case .unavailable(let reason): return reason.description
            }
        }
    }

    /// Writes the stitcher's notices to the log: warnings that name identifier types and hashes,
    /// never values.
    private func logNotices() {
        for notice in stitcher.takeNotices() {
            switch notice {
            case .identifierFlaggedShared(let type, let hash, let users):
                logger.warning(
                    "identifier flagged as shared; it no longer links profiles",
                    metadata: ["identifier_type": "\(type.rawValue)", "value_hash": "\(hash)", "user_ids": "\(users)"])
            }
        }
    }

    public func countRejected(_ count: Int) {
        rejected += count
    }

    /// A consistent cut for a snapshot: a copy of the state (copy-on-write) and the WAL position it
    /// corresponds to. Nil until recovered.
    public func cut() -> (stitcher: Stitcher, position: UInt64)? {
        guard let wal else { return nil }
        settle()
        return (stitcher, wal.appendedLSN)
    }

    /// WAL segments wholly before `position` are covered by a published snapshot.
    public func snapshotPublished(at position: UInt64) {
        wal?.releaseSegments(before: position)
    }

    /// Flushes and syncs the WAL; called last at shutdown.
    public func close() async {
        await wal?.close()
    }

    /// The profile (following absorbed ids to their survivor) as JSON with one page of its journey.
    public func profileJSON(id: String, after: Int, limit: Int) -> [UInt8]? {
        settle()
        guard let current = stitcher.resolve(profileID: id) else { return nil }
        return ProfileEncoder(stitcher).profileJSON(id: current, journey: (after, limit))
    }

    /// The profile owning a normalised identifier, as JSON with one page of its journey.
    public func profileJSON(identifier: Identifier, after: Int, limit: Int) -> [UInt8]? {
        settle()
        guard let id = stitcher.profileID(for: identifier) else { return nil }
        return ProfileEncoder(stitcher).profileJSON(id: id, journey: (after, limit))
    }

    public func stats() -> Stats {
        settle()
        return Stats(
            stitcher: stitcher.counters, profiles: stitcher.profileCount, identifiers: stitcher.identifierCount,
            touchpoints: stitcher.touchpointCount, rejected: rejected, sharedIdentifiers: stitcher.sharedIdentifierCount,
            suppressedIdentifiers: stitcher.suppressedCount, wal: wal?.metrics)
    }

    /// The identifiers flagged as shared, at most `limit` of them (most recent first), and how many there are.
    public func sharedIdentifiers(limit: Int) -> (list: [Stitcher.SharedIdentifierEntry], total: Int) {
        settle()
        let all = stitcher.sharedIdentifierList
        return (Array(all.suffix(limit).reversed()), all.count)
    }
}
