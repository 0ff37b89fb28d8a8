/// Writes profiles and touchpoints as the JSON objects of the snapshot format and lookup API
/// (DESIGN.md, Snapshots): snake_case keys, RFC 3339 UTC times with milliseconds.
///
/// Reads a `Stitcher` it is handed; call it from the stitcher's owner.
public struct ProfileEncoder {
    public static let defaultJourneyPageSize = 100
    public static let maxJourneyPageSize = 1000

    private let stitcher: Stitcher

    public init(_ stitcher: Stitcher) {
        self.stitcher = stitcher
    }

    /// The profile as one JSON object, or nil if no live profile has this id.
    /// With `journey`, adds its touchpoints with `seq` greater than `after`, at most `limit` of
    /// them, and `next_after` (the value of `after` for the next page, or null at the end).
    public func profileJSON(id: ProfileID, journey page: (after: Int, limit: Int)? = nil) -> [UInt8]? {
        guard let record = stitcher.record(for: id) else { return nil }
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        writeSummary(record, into: &writer)
        if let page {
            let start = min(max(page.after, 0), record.touchpoints.count)
            let end = min(start + max(page.limit, 0), record.touchpoints.count)
            writer.key("journey")
            writer.beginArray()
            for index in start..<end {
                writeTouchpoint(record.touchpoints[index], seq: index + 1, profileID: record.id, into: &writer)
            }
            writer.endArray()
            writer.key("next_after")
            if end < record.touchpoints.count { writer.int(end) } else { writer.null() }
        }
        writer.endObject()
        return writer.bytes
    }

    /// A profile's identifiers in priority order, then by value.
    func sortedIdentifiers(_ record: ProfileRecord) -> [Identifier] {
        let identifiers = record.identifierIDs.map { stitcher.identifier($0) }
        guard identifiers.count > 1 else { return identifiers }
        return identifiers.map { (rank: stitcher.policy.rank(of: $0.type), identifier: $0) }
            .sorted { $0.rank != $1.rank ? $0.rank < $1.rank : $0.identifier.value < $1.identifier.value }
            .map(\.identifier)
    }

    func writeSummary(_ record: ProfileRecord, into writer: inout JSONWriter) {
        writer.key("profile_id")
        writer.profileID(record.id)
        writer.key("identifiers")
        writer.beginArray()
        for identifier in sortedIdentifiers(record) {
            writer.beginObject()
            writer.key("type")
            writer.string(identifier.type.rawValue)
            writer.key("value")
            writer.string(identifier.value)
            writer.endObject()
        }
        writer.endArray()
        writer.key("traits")
        writer.beginObject()
        for (key, trait) in record.traits.sorted(by: { $0.key < $1.key }) {
            writer.key(key)
            writer.raw(trait.json)
        }
        writer.endObject()
        writer.key("first_seen")
        writer.timestamp(Timestamp(millisecondsSinceEpoch: record.firstSeen))
        writer.key("last_seen")
        writer.timestamp(Timestamp(millisecondsSinceEpoch: record.lastSeen))
        writer.key("touchpoints")
        writer.int(record.touchpoints.count)
        writer.key("channels")
        writer.beginArray()
        let channels = record.channelFirstUse.map { (name: stitcher.channelName($0.key), first: $0.value) }
            .sorted { $0.first != $1.first ? $0.first < $1.first : $0.name < $1.name }
        for channel in channels { writer.string(channel.name) }
        writer.endArray()
        writer.key("channel_count")
        writer.int(channels.count)
        writer.key("phases")
        writer.beginObject()
        for phase in Phase.allCases {
            guard let first = record.phaseFirstReached[phase] else { continue }
            writer.key(phase.rawValue)
            writer.timestamp(Timestamp(millisecondsSinceEpoch: first))
        }
        writer.endObject()
        writer.key("stage")
        if let stage = record.stage { writer.string(stage.rawValue) } else { writer.null() }
        writer.key("converted")
        writer.bool(record.converted)
        writer.key("time_to_first_purchase_s")
        if let purchase = record.phaseFirstReached[.buy] {
            writer.double(Double(purchase - record.firstSeen) / 1000)
        } else {
            writer.null()
        }
        writer.key("merged_from")
        writer.beginArray()
        for id in record.mergedFrom.sorted() { writer.profileID(id) }
        writer.endArray()
    }

    func writeTouchpoint(_ touchpoint: StoredTouchpoint, seq: Int, profileID: ProfileID, into writer: inout JSONWriter) {
        // Up to the message id's key; then the message id (which may need escaping); then the
        // rest, with the properties when they are small.
        writer.compose(maxCount: 80 + ProfileID.quotedLength + JSONComposer.intBytes + 2 * JSONComposer.timestampBytes, endsValue: false) { row in
            row.text(#"{"profile_id":"#)
            row.profileID(profileID)
            row.text(#","seq":"#)
            row.int(seq)
            row.text(#","ts":"#)
            row.timestamp(Timestamp(millisecondsSinceEpoch: touchpoint.timestamp))
            row.text(#","received_at":"#)
            row.timestamp(Timestamp(millisecondsSinceEpoch: touchpoint.receivedAt))
            row.text(#","message_id":"#)
        }
        stitcher.payloads.payload(of: touchpoint) { payload in
            writer.string(utf8: payload.messageID)
            let source = stitcher.sources.quotedNames[Int(touchpoint.sourceIndex)]
            let channel = stitcher.channels.quotedNames[Int(touchpoint.channelIndex)]
            let event = touchpoint.nameIndex > 0 ? stitcher.eventNames.quotedNames[Int(touchpoint.nameIndex) - 1] : nil
            let properties = touchpoint.propertiesLength == 0 ? nil : payload.properties(length: touchpoint.propertiesLength)
            let inline = properties.map { $0.count <= Self.inlinePropertiesBytes } ?? true
            let names = source.count + channel.count + (event?.count ?? 4)
            writer.compose(maxCount: 120 + names + (inline ? properties?.count ?? 2 : 0), endsValue: inline) { row in
                row.text(#""source":"#)
                row.json(source)
                row.text(#","channel":"#)
                row.json(channel)
                row.text(#","type":"#)
                row.plainString(touchpoint.type.rawValue)
                row.text(#","event":"#)
                if let event { row.json(event) } else { row.text("null") }
                row.text(#","phase":"#)
                if let phase = touchpoint.phase { row.plainString(phase.rawValue) } else { row.text("null") }
                row.text(#","properties":"#)
                guard inline else { return }
                if let properties { row.json(properties) } else { row.text("{}") }
                row.text("}")
            }
            if !inline, let properties {
                writer.raw(properties)
                writer.endObject()
            }
        }
    }

    /// Properties up to this many bytes go out in the same append as the rest of their row.
    static let inlinePropertiesBytes = 2048
}

extension JSONWriter {
    /// Writes a profile id as its JSON string (`"p_…"`), without building a `String`.
    mutating func profileID(_ id: ProfileID) {
        compose(maxCount: ProfileID.quotedLength, endsValue: true) { $0.profileID(id) }
    }
}
