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
        self.order = stitcher.slotByProfileID.entries.sorted { $0.key < $1.key }.map(\.value)
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

    public func forEachTouchpoint(_ body: ([UInt8]) throws -> Void) rethrows {
        let encoder = ProfileEncoder(stitcher)
        var writer = JSONWriter(capacity: 1024)
        for slot in order {
            let record = stitcher.profiles[Int(slot)]!
            for (index, touchpoint) in record.touchpoints.enumerated() {
                writer.reset()
                encoder.writeTouchpoint(touchpoint, seq: index + 1, profileID: record.id, into: &writer)
                try body(writer.bytes)
            }
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
            writer.string(merge.at.description)
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
