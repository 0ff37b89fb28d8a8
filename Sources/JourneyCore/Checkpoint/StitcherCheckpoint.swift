/// The recovery checkpoint: the whole `Stitcher` state as a stream of framed records, so that a
/// restart restores exactly what was in memory (the snapshot tables alone do not carry everything:
/// per-touchpoint identifier edges, trait provenance, the anchors of profiles whose first
/// touchpoint was dropped by the cap).
///
/// Stream: records of `varint length` + body; a body starts with its kind byte. Kinds, in order:
/// header (format version; counts of profiles, touchpoints, identifiers, forwarding ids), name tables, identifiers (in chunks), profiles (one each),
/// forwarding ids (chunks), merge records (chunks), footer (counters; its presence proves the
/// stream is complete). Profile slots are renumbered densely on the way out.
enum CheckpointRecordKind: UInt8 {
    case header = 1, names = 2, identifiers = 3, profile = 4, forwarding = 5, merges = 6, footer = 7
}

extension Stitcher {
    static let checkpointVersion: UInt32 = 2
    private static let chunkRows = 4096

    /// Emits the checkpoint in chunks of about 1 MiB.
    public func writeCheckpoint(_ emit: ([UInt8]) throws -> Void) throws {
        var out = BinaryWriter(capacity: 1 << 20)
        var body = BinaryWriter(capacity: 64 * 1024)
        func record(_ kind: CheckpointRecordKind, _ fill: (inout BinaryWriter) -> Void) throws {
            body.removeAll()
            body.u8(kind.rawValue)
            fill(&body)
            out.lengthPrefixed(body.bytes)
            if out.bytes.count >= 1 << 20 {
                try emit(out.bytes)
                out.removeAll()
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
        for start in stride(from: 0, to: identifierList.count, by: Self.chunkRows) {
            let end = min(start + Self.chunkRows, identifierList.count)
            try record(.identifiers) { writer in
                writer.varint(end - start)
                for index in start..<end {
                    writer.string(identifierList[index].type.rawValue)
                    writer.string(identifierList[index].value)
                    let slot = owner[index]
                    writer.varint(slot < 0 ? 0 : Int(newSlot[Int(slot)]) + 1)
                }
            }
        }
        for profile in profiles {
            guard let profile else { continue }
            try record(.profile) { encode(profile, into: &$0) }
        }
        let forwardingPairs = forwarding.entries.sorted { $0.key < $1.key }
        for start in stride(from: 0, to: forwardingPairs.count, by: Self.chunkRows) {
            try record(.forwarding) { writer in
                let slice = forwardingPairs[start..<min(start + Self.chunkRows, forwardingPairs.count)]
                writer.varint(slice.count)
                for (from, to) in slice {
                    writer.string(from)
                    writer.string(to)
                }
            }
        }
        for start in stride(from: 0, to: merges.count, by: Self.chunkRows) {
            try record(.merges) { writer in
                let slice = merges[start..<min(start + Self.chunkRows, merges.count)]
                writer.varint(slice.count)
                for merge in slice {
                    writer.string(merge.from)
                    writer.string(merge.into)
                    writer.i64(merge.at.millisecondsSinceEpoch)
                    writer.string(merge.messageID)
                    switch merge.reason {
                    case .sharedIdentifier: writer.u8(1)
                    case .alias: writer.u8(2)
                    case .earlierTouchpoint: writer.u8(3)
                    case .limit(let type):
                        writer.u8(4)
                        writer.string(type.rawValue)
                    }
                }
            }
        }
        try record(.footer) { writer in
            for value in [counters.eventsStored, counters.duplicates, counters.merges, counters.blockedMerges, counters.linksRefused, counters.touchpointsDroppedOverCap] {
                writer.varint(value)
            }
        }
        if !out.bytes.isEmpty { try emit(out.bytes) }
    }

    private func encode(_ profile: ProfileRecord, into writer: inout BinaryWriter) {
        writer.string(profile.id)
        writer.i64(profile.anchor.timestamp)
        writer.string(profile.anchor.messageID)
        writer.string(profile.anchor.source)
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
                writer.varint(payload.linkCount)
                for index in 0..<payload.linkCount { writer.varint(Int(payload.link(index))) }
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
            writer.i64(trait.timestamp)
            writer.string(trait.messageID)
            writer.string(trait.source)
        }
        writer.varint(profile.mergedFrom.count)
        for id in profile.mergedFrom { writer.string(id) }
        writer.varint(profile.droppedTouchpoints)
    }
}
