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

    /// Profile slots by profile id. Ids are `p_` + 16 lowercase hex digits, whose text order is
    /// their numeric order, so they are sorted as integers (several times faster than comparing a
    /// million strings); any other id falls back to sorting the text.
    private static func profileOrder(_ stitcher: Stitcher) -> [Int32] {
        var keyed: [(key: UInt64, slot: Int32)] = []
        keyed.reserveCapacity(stitcher.slotByProfileID.count)
        for (id, slot) in stitcher.slotByProfileID.entries {
            guard let key = hexKey(id) else {
                return stitcher.slotByProfileID.entries.sorted { $0.key < $1.key }.map(\.value)
            }
            keyed.append((key, slot))
        }
        keyed.sort { $0.key < $1.key }
        return keyed.map(\.slot)
    }

    private static func hexKey(_ id: String) -> UInt64? {
        var id = id
        return id.withUTF8 { bytes -> UInt64? in
            guard bytes.count == 18, bytes[0] == UInt8(ascii: "p"), bytes[1] == UInt8(ascii: "_") else { return nil }
            var key: UInt64 = 0
            for byte in bytes[2...] {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): key = key << 4 | UInt64(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): key = key << 4 | UInt64(byte - UInt8(ascii: "a") + 10)
                default: return nil
                }
            }
            return key
        }
    }

    public var profileCount: Int { order.count }
    public var touchpointCount: Int { stitcher.touchpointCount }

    public func forEachProfile(_ body: ([UInt8]) throws -> Void) rethrows {
        let encoder = ProfileEncoder(stitcher)
        var writer = JSONWriter(capacity: 1024)
        for slot in order {
            writer.reset()
            writer.beginObject()
            encoder.writeSummary(stitcher.profiles[Int(slot)]!, into: &writer)
            writer.endObject()
            try body(writer.bytes)
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

    /// The rows of one run from `touchpointParts`.
    public func forEachTouchpoint(in range: TouchpointRange, _ body: ([UInt8]) throws -> Void) rethrows {
        let encoder = ProfileEncoder(stitcher)
        var writer = JSONWriter(capacity: 1024)
        var remaining = range.rows
        var offset = range.offset
        var position = range.profile
        while remaining > 0 {
            let record = stitcher.profiles[Int(order[position])]!
            let end = min(record.touchpoints.count, offset + remaining)
            for index in offset..<end {
                writer.reset()
                encoder.writeTouchpoint(record.touchpoints[index], seq: index + 1, profileID: record.id, into: &writer)
                try body(writer.bytes)
            }
            remaining -= end - offset
            offset = 0
            position += 1
        }
    }

    public func forEachIdentity(_ body: ([UInt8]) throws -> Void) rethrows {
        var writer = JSONWriter(capacity: 256)
        for slot in order {
            let record = stitcher.profiles[Int(slot)]!
            for identifier in ProfileEncoder(stitcher).sortedIdentifiers(record) {
                writer.reset()
                writer.beginObject()
                writer.key("type")
                writer.string(identifier.type.rawValue)
                writer.key("value")
                writer.string(identifier.value)
                writer.key("profile_id")
                writer.string(record.id)
                writer.endObject()
                try body(writer.bytes)
            }
        }
    }

    public func forEachMerge(_ body: ([UInt8]) throws -> Void) rethrows {
        var writer = JSONWriter(capacity: 256)
        for merge in stitcher.merges {
            writer.reset()
            writer.beginObject()
            writer.key("from")
            writer.string(merge.from)
            writer.key("into")
            writer.string(merge.into)
            writer.key("at")
            writer.timestamp(merge.at)
            writer.key("message_id")
            writer.string(merge.messageID)
            writer.key("blocked")
            writer.bool(merge.blocked)
            writer.key("reason")
            writer.string(merge.reason.description)
            writer.endObject()
            try body(writer.bytes)
        }
    }
}
