/// The recovery checkpoint: the whole `Stitcher` state as a stream of framed records, so that a
/// restart restores exactly what was in memory (the snapshot tables alone do not carry everything:
/// per-touchpoint identifier edges and traits, trait provenance, merge history of the canonical
/// order, anchors of capped profiles, shared-identifier evidence, split rules, suppression digests).
///
/// Stream: records of `varint length` + body; a body starts with its kind byte. Kinds, in order:
/// header (format version; counts of profiles, touchpoints, identifiers, forwarding ids), name
/// tables, identifiers (in chunks), profiles (one each), forwarding ids, superseded ids, shared
/// identifiers, split rules, split log, suppression digests (chunks each), footer (counters; its
/// presence proves the stream is complete). Profile slots are renumbered densely on the way out.
/// Components (`IdentifierClusters`) are not stored: loading rebuilds them from the edges.
enum CheckpointRecordKind: UInt8 {
    case header = 1, names = 2, identifiers = 3, profile = 4, forwarding = 5, footer = 7
    case superseded = 8, shared = 9, splitRules = 10, splitLog = 11, suppressed = 12
}

extension Stitcher {
    static let checkpointVersion: UInt32 = 3
    static let checkpointChunkRows = 4096

    /// Emits the checkpoint in chunks of about 1 MiB.
    public func writeCheckpoint(_ emit: ([UInt8]) throws -> Void) throws {
        var out = BinaryWriter(capacity: 1 << 20)
        func record(_ kind: CheckpointRecordKind, _ fill: (inout BinaryWriter) -> Void) throws {
            out.lengthPrefixed { body in
                body.u8(kind.rawValue)
                fill(&body)
            }
            if out.bytes.count >= 1 << 20 {
                try emit(out.bytes)
                out.removeAll()
            }
        }
        func chunked<Element>(_ kind: CheckpointRecordKind, _ elements: [Element], _ write: (inout BinaryWriter, Element) -> Void) throws {
            for start in stride(from: 0, to: elements.count, by: Self.checkpointChunkRows) {
                try record(kind) { writer in
                    let slice = elements[start..<min(start + Self.checkpointChunkRows, elements.count)]
                    writer.varint(slice.count)
                    for element in slice { write(&writer, element) }
                }
            }
        }
        try record(.header) { writer in
            writer.u32(Self.checkpointVersion)
            // Sizes, so the reader can allocate its tables once instead of growing them.
            writer.varint(profileCount)
            writer.varint(touchpointCount)
            writer.varint(identifierList.count)
            writer.varint(forwarding.count)
        }
        for (table, names) in [sources.names, channels.names, eventNames.names].enumerated() {
            try record(.names) { writer in
                writer.u8(UInt8(table))
                writer.varint(names.count)
                for name in names { writer.string(name) }
            }
        }
        var newSlot = [Int32](repeating: -1, count: profiles.count)
        var next: Int32 = 0
        for (slot, profile) in profiles.enumerated() where profile != nil {
            newSlot[slot] = next
            next += 1
        }
        for start in stride(from: 0, to: identifierList.count, by: Self.checkpointChunkRows) {
            let end = min(start + Self.checkpointChunkRows, identifierList.count)
            try record(.identifiers) { writer in
                writer.varint(end - start)
                for index in start..<end {
                    writer.string(identifierList[index].type.rawValue)
                    writer.string(identifierList[index].value)
                    let slot = owner[index]
                    writer.varint(slot < 0 ? 0 : Int(newSlot[Int(slot)]) + 1)
                    writer.u8(identifierFlags[index].rawValue)
                    let users = sharedEvidence.users(of: UInt32(index))
                    writer.varint(users.count)
                    for user in users { writer.varint(Int(user)) }
                }
            }
        }
        for profile in profiles {
            guard let profile else { continue }
            try record(.profile) { encode(profile, into: &$0) }
        }
        try chunked(.forwarding, forwarding.entries.sorted { $0.key < $1.key }) { writer, pair in
            writer.u64(pair.key.value)
            writer.u64(pair.value.value)
        }
        try chunked(.superseded, superseded.entries.sorted { $0.key < $1.key }.map(\.value)) { Self.encode($1, into: &$0) }
        try chunked(.shared, sharedIdentifiers) { writer, shared in
            writer.varint(Int(shared.identifier))
            writer.u8(shared.reason == .declared ? 1 : 0)
            writer.i64(shared.at)
        }
        try chunked(.splitRules, splitRules.rules) { writer, rule in
            Self.encode(rule.first, into: &writer)
            Self.encode(rule.second, into: &writer)
        }
        try chunked(.splitLog, splitLog) { Self.encode($1, into: &$0) }
        try chunked(.suppressed, Array(suppressed)) { writer, digest in
            writer.u64(digest.high)
            writer.u64(digest.low)
        }
        try record(.footer) { writer in
            for value in counters.checkpointValues { writer.varint(value) }
        }
        if !out.bytes.isEmpty { try emit(out.bytes) }
    }

    private func encode(_ profile: ProfileRecord, into writer: inout BinaryWriter) {
        writer.u64(profile.id.value)
        writer.varint(profile.identifierIDs.count)
        for id in profile.identifierIDs { writer.varint(Int(id)) }
        writer.varint(profile.touchpoints.count)
        for touchpoint in profile.touchpoints {
            writer.i64(touchpoint.timestamp)
            writer.i64(touchpoint.receivedAt)
            payloads.payload(of: touchpoint) { payload in
                writer.lengthPrefixed(payload.messageID)
                writer.varint(Int(touchpoint.sourceIndex))
                writer.varint(Int(touchpoint.channelIndex))
                writer.varint(Int(touchpoint.nameIndex))
                writer.u8(touchpoint.type.binaryCode)
                writer.u8(touchpoint.phase?.binaryCode ?? 0)
                writer.u8(payload.isAlias ? TouchpointPayload.aliasFlag : 0)
                writer.varint(payload.linkCount)
                for index in 0..<payload.linkCount { writer.varint(Int(payload.link(index))) }
                writer.lengthPrefixed(payload.traits.bytes)
                writer.lengthPrefixed(payload.properties(length: touchpoint.propertiesLength))
            }
        }
        writer.i64(profile.lastSeen)
        writer.varint(profile.channelFirstUse.count)
        for (channel, first) in profile.channelFirstUse.sorted(by: { $0.key < $1.key }) {
            writer.varint(Int(channel))
            writer.i64(first)
        }
        writer.varint(profile.phaseFirstReached.count)
        for (phase, first) in profile.phaseFirstReached.sorted(by: { $0.key < $1.key }) {
            writer.u8(phase.binaryCode)
            writer.i64(first)
        }
        writer.varint(profile.traits.count)
        for (key, trait) in profile.traits.sorted(by: { $0.key < $1.key }) {
            writer.string(key)
            writer.lengthPrefixed(trait.json)
            Self.encode(trait.setBy, into: &writer)
        }
        writer.varint(profile.history.count)
        for merge in profile.history { Self.encode(merge, into: &writer) }
        writer.varint(profile.linksRefused)
        if let retained = profile.retained {
            writer.u8(1)
            Self.encode(retained.anchor, into: &writer)
            writer.varint(retained.count)
        } else {
            writer.u8(0)
        }
        writer.varint(profile.pins.count)
        for pin in profile.pins { writer.varint(Int(pin)) }
    }

    static func encode(_ key: TouchKey, into writer: inout BinaryWriter) {
        writer.i64(key.timestamp)
        writer.string(key.messageID)
        writer.string(key.source)
    }

    static func encode(_ merge: MergeRecord, into writer: inout BinaryWriter) {
        writer.u64(merge.from.value)
        writer.u64(merge.into.value)
        writer.i64(merge.at.millisecondsSinceEpoch)
        writer.optionalString(merge.messageID)
        switch merge.reason {
        case .sharedIdentifier: writer.u8(1)
        case .alias: writer.u8(2)
        case .limit(let type):
            writer.u8(4)
            writer.string(type.rawValue)
        case .keptApart: writer.u8(5)
        case .superseded: writer.u8(6)
        case .split(let cause):
            writer.u8(7)
            writer.string(cause.rawValue)
        }
    }
}

extension Stitcher.Counters {
    /// The counters in the checkpoint footer's order.
    var checkpointValues: [Int] {
        [
            eventsStored, duplicates, merges, blockedMerges, linksRefused, touchpointsDroppedOverCap, reResolutions,
            reResolvedTouchpoints, erasures, splits,
        ]
    }

    init(checkpointValues values: [Int]) {
        self.init()
        (eventsStored, duplicates, merges, blockedMerges, linksRefused) = (values[0], values[1], values[2], values[3], values[4])
        (touchpointsDroppedOverCap, reResolutions, reResolvedTouchpoints, erasures, splits) = (values[5], values[6], values[7], values[8], values[9])
    }
}
