import JourneyCore
import JourneyStorage

/// The single writer: owns the `Stitcher` (identity graph + journey store) and applies batches
/// of normalised events in arrival order, one batch at a time; answers lookups from the same state.
///
/// An actor, so there are no locks on the hot path: ingest tasks parse and validate in parallel
/// on the event loops and hand each request's events over in one `ingest` call.
public actor IngestEngine {
    /// Totals the engine has counted since start.
    public struct Stats: Sendable {
        public var stitcher: Stitcher.Counters
        public var profiles: Int
        public var identifiers: Int
        public var touchpoints: Int
        public var rejected: Int
    }

    private var stitcher: Stitcher
    private var rejected = 0

    public init(policy: IdentityPolicy, maxTouchpointsPerProfile: Int) {
        self.stitcher = Stitcher(policy: policy, maxTouchpointsPerProfile: maxTouchpointsPerProfile)
    }

    /// Stitches the events in order and says, per event, where it went.
    public func ingest(_ events: [NormalisedEvent]) -> [Stitcher.Outcome] {
        events.map { stitcher.apply($0) }
    }

    public func countRejected(_ count: Int) {
        rejected += count
    }

    /// The profile (following absorbed ids to their survivor) as JSON with one page of its journey.
    public func profileJSON(id: String, after: Int, limit: Int) -> [UInt8]? {
        guard let current = stitcher.resolve(profileID: id) else { return nil }
        return ProfileEncoder(stitcher).profileJSON(id: current, journey: (after, limit))
    }

    /// The profile owning a normalised identifier, as JSON with one page of its journey.
    public func profileJSON(identifier: Identifier, after: Int, limit: Int) -> [UInt8]? {
        guard let id = stitcher.profileID(for: identifier) else { return nil }
        return ProfileEncoder(stitcher).profileJSON(id: id, journey: (after, limit))
    }

    public func stats() -> Stats {
        Stats(
            stitcher: stitcher.counters, profiles: stitcher.profileCount, identifiers: stitcher.identifierCount,
            touchpoints: stitcher.touchpointCount, rejected: rejected)
    }
}
