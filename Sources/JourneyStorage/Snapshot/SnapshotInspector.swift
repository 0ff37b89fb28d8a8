import Foundation
import JourneyCore

/// What `journeyctl snapshot inspect` shows: the manifest plus figures computed by streaming the
/// tables once (no checksums; `SnapshotVerifier` does those).
public struct SnapshotSummary: Sendable {
    public struct Count: Sendable, Equatable {
        public var name: String
        public var count: Int
    }

    public var directory: String
    public var name: String
    public var manifest: SnapshotManifest
    /// Rows read per table (may differ from the manifest only if the files were changed).
    public var profiles = 0
    public var touchpoints = 0
    public var identities = 0
    public var merges = 0
    public var blockedMerges = 0
    public var sharedIdentifiers = 0
    /// Earliest and latest touchpoint `ts` (RFC 3339 text), nil without touchpoints.
    public var firstTouchpoint: String?
    public var lastTouchpoint: String?
    /// Touchpoints per channel, most first (ties by name).
    public var channels: [Count] = []
    /// Touchpoints per event type (track, page, …), most first.
    public var eventTypes: [Count] = []
    /// Identities per identifier type, most first.
    public var identifierTypes: [Count] = []
    /// Merges per reason, most first.
    public var mergeReasons: [Count] = []
    /// Profiles that reached each phase, in phase order (all six, zeros included).
    public var funnel: [Count] = []
    /// Profiles per current stage, in phase order, then profiles with no stage as `none`.
    public var stages: [Count] = []
    public var converted = 0
    /// Profiles by number of channels used: index 0 = one channel, … last = that many or more.
    public var channelsPerProfile: [Count] = []
    public var maxTouchpointsPerProfile = 0
}

public enum SnapshotInspector {
    /// Reads the snapshot at `directory` (a snapshot directory; resolve a snapshots directory
    /// with `SnapshotLocator` first).
    public static func summarize(directory: String) throws(SnapshotProblem) -> SnapshotSummary {
        do {
            return try run(directory: directory)
        } catch let problem as SnapshotProblem {
            throw problem
        } catch {
            throw SnapshotProblem("\(error)")
        }
    }

    private static func run(directory: String) throws -> SnapshotSummary {
        let manifestPath = directory + "/" + SnapshotStore.manifestFile
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw SnapshotProblem(file: SnapshotStore.manifestFile, "missing or unreadable")
        }
        let manifest: SnapshotManifest
        do {
            manifest = try SnapshotManifest(json: [UInt8](data))
        } catch {
            throw SnapshotProblem(file: SnapshotStore.manifestFile, error.description)
        }
        var summary = SnapshotSummary(
            directory: directory, name: SnapshotTableReader.fileName(directory), manifest: manifest)

        var funnel = [Phase: Int]()
        var stages = [String: Int]()
        var channelCounts = [Int: Int]()
        var channels = [String: Int]()
        var types = [String: Int]()
        var identifierTypes = [String: Int]()
        var reasons = [String: Int]()

        func files(_ table: SnapshotTable) -> [String] {
            manifest.files.map(\.name).filter { SnapshotTable.classify($0)?.table == table }
                .sorted { (SnapshotTable.classify($0)?.part ?? 0) < (SnapshotTable.classify($1)?.part ?? 0) }
        }

        for file in files(.profiles) {
            try SnapshotTableReader.forEachRow(path: directory + "/" + file) { row, _ in
                summary.profiles += 1
                if let phases = row["phases"] {
                    for (key, _) in phases.members {
                        if let phase = Phase(rawValue: key) { funnel[phase, default: 0] += 1 }
                    }
                }
                stages[row["stage"]?.string ?? "none", default: 0] += 1
                if row["converted"]?.bool == true { summary.converted += 1 }
                channelCounts[row["channels"]?.count ?? 0, default: 0] += 1
                summary.maxTouchpointsPerProfile = max(summary.maxTouchpointsPerProfile, row["touchpoints"]?.int ?? 0)
            }
        }
        for file in files(.touchpoints) {
            try SnapshotTableReader.forEachRow(path: directory + "/" + file) { row, _ in
                summary.touchpoints += 1
                channels[row["channel"]?.string ?? "?", default: 0] += 1
                types[row["type"]?.string ?? "?", default: 0] += 1
                if let ts = row["ts"]?.string {
                    if summary.firstTouchpoint.map({ ts < $0 }) ?? true { summary.firstTouchpoint = ts }
                    if summary.lastTouchpoint.map({ ts > $0 }) ?? true { summary.lastTouchpoint = ts }
                }
            }
        }
        for file in files(.identities) {
            try SnapshotTableReader.forEachRow(path: directory + "/" + file) { row, _ in
                summary.identities += 1
                identifierTypes[row["type"]?.string ?? "?", default: 0] += 1
            }
        }
        for file in files(.merges) {
            try SnapshotTableReader.forEachRow(path: directory + "/" + file) { row, _ in
                summary.merges += 1
                if row["blocked"]?.bool == true { summary.blockedMerges += 1 }
                reasons[row["reason"]?.string ?? "?", default: 0] += 1
            }
        }

        for file in files(.sharedIdentifiers) {
            try SnapshotTableReader.forEachRow(path: directory + "/" + file) { _, _ in summary.sharedIdentifiers += 1 }
        }

        summary.funnel = Phase.allCases.map { SnapshotSummary.Count(name: $0.rawValue, count: funnel[$0] ?? 0) }
        summary.stages = (Phase.allCases.map(\.rawValue) + ["none"]).compactMap { name in
            stages[name].map { SnapshotSummary.Count(name: name, count: $0) }
        }
        summary.channels = ranked(channels)
        summary.eventTypes = ranked(types)
        summary.identifierTypes = ranked(identifierTypes)
        summary.mergeReasons = ranked(reasons)
        let widest = 4
        summary.channelsPerProfile = (1...widest).map { count in
            let profiles = count < widest ? channelCounts[count] ?? 0 : channelCounts.filter { $0.key >= widest }.values.reduce(0, +)
            return SnapshotSummary.Count(name: count < widest ? "\(count)" : "\(widest)+", count: profiles)
        }
        return summary
    }

    private static func ranked(_ counts: [String: Int]) -> [SnapshotSummary.Count] {
        counts.map { SnapshotSummary.Count(name: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.name < $1.name }
    }
}
