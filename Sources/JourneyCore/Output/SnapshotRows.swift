/// The rows of the snapshot tables (DESIGN.md, Snapshots), one JSON object each, from a
/// `Stitcher` value. Profiles come in profile-id order; each profile's touchpoints (by `seq`) and
/// identifiers follow the same order; merges in the order they happened.
///
/// Holds its own copy of the stitcher (copy-on-write), so it can run on another thread while the
/// engine keeps ingesting.
public struct SnapshotRows: Sendable {
    private let stitcher: Stitcher
    private let order: [Int32]

    public init(_ stitcher: Stitcher) {
        self.stitcher = stitcher
        self.order = Self.profileOrder(stitcher)
    }

    /// Profile slots in profile-id order (ids sort like the integers they are).
    private static func profileOrder(_ stitcher: Stitcher) -> [Int32] {
        var keyed = Array(stitcher.slotByProfileID.entries)
        keyed.sort { $0.key < $1.key }
        return keyed.map(\.value)
    }

    public var profileCount: Int { order.count }
    public var touchpointCount: Int { stitcher.touchpointCount }

    /// The rows of `profiles.jsonl.gz`.
    public func writeProfiles<Sink: JSONRowSink>(into sink: inout Sink) throws(Sink.Failure) {
        let encoder = ProfileEncoder(stitcher)
        for slot in order {
            sink.rowBuffer.beginObject()
            encoder.writeSummary(stitcher.profiles[Int(slot)]!, into: &sink.rowBuffer)
            sink.rowBuffer.endObject()
            try sink.endRow()
        }
    }

    /// Where a run of touchpoint rows starts (a profile's position in the row order and a
    /// touchpoint index inside it) and how many rows it has.
    public struct TouchpointRange: Sendable, Equatable {
        public var profile: Int
        public var offset: Int
        public var rows: Int
    }

    /// The touchpoint rows cut into runs of `rowsPerPart` (the last one shorter), in row order;
    /// one run when there are at most `rowsPerPart`. The runs can be written concurrently.
    public func touchpointParts(rowsPerPart: Int) -> [TouchpointRange] {
        precondition(rowsPerPart > 0)
        var parts: [TouchpointRange] = []
        var rowsBefore = 0
        for (position, slot) in order.enumerated() {
            let count = stitcher.profiles[Int(slot)]!.touchpoints.count
            // Starts of parts that fall inside this profile's touchpoints.
            while (parts.count * rowsPerPart) < rowsBefore + count {
                parts.append(TouchpointRange(profile: position, offset: parts.count * rowsPerPart - rowsBefore, rows: 0))
            }
            rowsBefore += count
        }
        for index in parts.indices {
            parts[index].rows = min(rowsPerPart, rowsBefore - index * rowsPerPart)
        }
        return parts
    }

    /// The rows of one run from `touchpointParts` (of `touchpoints.jsonl.gz` or one of its parts).
    public func writeTouchpoints<Sink: JSONRowSink>(in range: TouchpointRange, into sink: inout Sink) throws(Sink.Failure) {
        let encoder = ProfileEncoder(stitcher)
        var remaining = range.rows
        var offset = range.offset
        var position = range.profile
        while remaining > 0 {
            let record = stitcher.profiles[Int(order[position])]!
            let end = min(record.touchpoints.count, offset + remaining)
            for index in offset..<end {
                encoder.writeTouchpoint(record.touchpoints[index], seq: index + 1, profileID: record.id, into: &sink.rowBuffer)
                try sink.endRow()
            }
            remaining -= end - offset
            offset = 0
            position += 1
        }
    }

    /// The rows of `identities.jsonl.gz`.
    public func writeIdentities<Sink: JSONRowSink>(into sink: inout Sink) throws(Sink.Failure) {
        let encoder = ProfileEncoder(stitcher)
        for slot in order {
            let record = stitcher.profiles[Int(slot)]!
            for identifier in encoder.sortedIdentifiers(record) {
                sink.rowBuffer.beginObject()
                sink.rowBuffer.key("type")
                sink.rowBuffer.string(identifier.type.rawValue)
                sink.rowBuffer.key("value")
                sink.rowBuffer.string(identifier.value)
                sink.rowBuffer.key("profile_id")
                sink.rowBuffer.profileID(record.id)
                sink.rowBuffer.endObject()
                try sink.endRow()
            }
        }
    }

    /// The rows of `merges.jsonl.gz`: every profile's merge history (profile-id order, then
    /// canonical order), then the ids superseded by re-resolution (by id), then the splits
    /// operators made (in order).
    public func writeMerges<Sink: JSONRowSink>(into sink: inout Sink) throws(Sink.Failure) {
        try stitcher.forEachMergeRow(profileOrder: order) { (merge) throws(Sink.Failure) in
            merge.writeRow(into: &sink.rowBuffer)
            try sink.endRow()
        }
    }

    /// The rows of `shared_identifiers.jsonl.gz`: the identifiers flagged as shared (they no
    /// longer link profiles), in the order flagged.
    public func writeSharedIdentifiers<Sink: JSONRowSink>(into sink: inout Sink) throws(Sink.Failure) {
        for shared in stitcher.sharedIdentifierList {
            shared.write(into: &sink.rowBuffer)
            try sink.endRow()
        }
    }
}

extension Stitcher {
    /// The rows of `merges.jsonl.gz`: each profile's history (profiles in `profileOrder`, each in
    /// canonical order), then the ids superseded by re-resolution (by id, each pointing at the
    /// profile that holds its touchpoints now), then the splits operators made (in order).
    func forEachMergeRow<Failure: Error>(profileOrder: [Int32], _ body: (MergeRecord) throws(Failure) -> Void) throws(Failure) {
        for slot in profileOrder {
            for merge in profiles[Int(slot)]!.history { try body(merge) }
        }
        for (_, merge) in superseded.entries.sorted(by: { $0.key < $1.key }) {
            guard let current = resolve(profileID: merge.into) else { continue }
            var row = merge
            row.into = current
            try body(row)
        }
        for merge in splitLog { try body(merge) }
    }
}

extension MergeRecord {
    /// The record as a row of `merges.jsonl.gz`: from, into, at, message_id, blocked, reason.
    func writeRow(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("from")
        writer.profileID(from)
        writer.key("into")
        writer.profileID(into)
        writer.key("at")
        writer.timestamp(at)
        writer.key("message_id")
        if let messageID { writer.string(messageID) } else { writer.null() }
        writer.key("blocked")
        writer.bool(blocked)
        writer.key("reason")
        writer.string(reason.description)
        writer.endObject()
    }
}

extension Stitcher.SharedIdentifierEntry {
    /// The entry as a row of `shared_identifiers.jsonl.gz` (and of `/v1/stats`): type, value,
    /// reason (`automatic` or `declared`), user_ids, at.
    public func write(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("type")
        writer.string(identifier.type.rawValue)
        writer.key("value")
        writer.string(identifier.value)
        writer.key("reason")
        writer.string(declared ? "declared" : "automatic")
        writer.key("user_ids")
        writer.int(userIDs)
        writer.key("at")
        writer.timestamp(at)
        writer.endObject()
    }
}
