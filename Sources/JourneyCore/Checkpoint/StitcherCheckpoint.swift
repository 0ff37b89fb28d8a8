/// The recovery checkpoint: the whole `Stitcher` state as a stream of framed records, so that a
/// restart restores exactly what was in memory (the snapshot tables alone do not carry everything:
/// per-touchpoint identifier edges, trait provenance, the anchors of profiles whose first
/// touchpoint was dropped by the cap).
///
/// Stream: records of `varint length` + body; a body starts with its kind byte. Kinds, in order:
/// header (format version), name tables, identifiers (in chunks), profiles (one each),
/// forwarding ids (chunks), merge records (chunks), footer (counters; its presence proves the
/// stream is complete). Profile slots are renumbered densely on the way out.
enum CheckpointRecordKind: UInt8 {
    case header = 1, names = 2, identifiers = 3, profile = 4, forwarding = 5, merges = 6, footer = 7
}

extension Stitcher {
    static let checkpointVersion: UInt32 = 1
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
        try record(.header) { $0.u32(Self.checkpointVersion) }
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
            try record(.profile) { Self.encode(profile, into: &$0) }
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

    private static func encode(_ profile: ProfileRecord, into writer: inout BinaryWriter) {
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
            writer.string(touchpoint.messageID)
            writer.varint(Int(touchpoint.sourceIndex))
            writer.varint(Int(touchpoint.channelIndex))
            writer.varint(Int(touchpoint.nameIndex))
            writer.u8(touchpoint.type.binaryCode)
            writer.u8(touchpoint.phase?.binaryCode ?? 0)
            writer.varint(touchpoint.links.count)
            for link in touchpoint.links { writer.varint(Int(link)) }
            writer.lengthPrefixed(touchpoint.properties)
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

/// Rebuilds a `Stitcher` from checkpoint bytes fed in arbitrary chunks. One owner; not thread-safe.
public struct StitcherCheckpointDecoder {
    private var stitcher: Stitcher
    private var carry: [UInt8] = []
    private var sawHeader = false
    private var sawFooter = false

    public init(policy: IdentityPolicy, maxTouchpointsPerProfile: Int) {
        stitcher = Stitcher(policy: policy, maxTouchpointsPerProfile: maxTouchpointsPerProfile)
    }

    public mutating func consume(_ chunk: [UInt8]) throws(BinaryDecodingError) {
        carry.append(contentsOf: chunk)
        var reader = BinaryReader(carry[...])
        var consumed = 0
        while !reader.isAtEnd {
            var probe = reader
            guard let length = try? probe.varint(), UInt64(probe.remaining) >= length else { break }
            let body = try probe.bytes(count: Int(length))
            try apply(body)
            reader = probe
            consumed = reader.position
        }
        carry.removeFirst(consumed)
    }

    public func finish() throws(BinaryDecodingError) -> Stitcher {
        guard sawHeader, sawFooter, carry.isEmpty else { throw .malformed("checkpoint is incomplete (no footer)") }
        return stitcher
    }

    private mutating func apply(_ body: ArraySlice<UInt8>) throws(BinaryDecodingError) {
        var reader = BinaryReader(body)
        guard let kind = CheckpointRecordKind(rawValue: try reader.u8()) else { throw .malformed("unknown checkpoint record") }
        guard sawHeader || kind == .header else { throw .malformed("checkpoint does not start with a header") }
        guard !sawFooter else { throw .malformed("data after the checkpoint footer") }
        switch kind {
        case .header:
            let version = try reader.u32()
            guard version == Stitcher.checkpointVersion else { throw .malformed("checkpoint version \(version)") }
            sawHeader = true
        case .names:
            let table = try reader.u8()
            let count = try reader.count()
            for _ in 0..<count {
                let name = try reader.string()
                switch table {
                case 0: _ = stitcher.sources.intern(name)
                case 1: _ = stitcher.channels.intern(name)
                case 2: _ = stitcher.eventNames.intern(name)
                default: throw .malformed("name table \(table)")
                }
            }
        case .identifiers:
            let count = try reader.count()
            for _ in 0..<count {
                let identifier = Identifier(type: IdentifierType(rawValue: try reader.string()), value: try reader.string())
                let owner = Int32(try reader.varint()) - 1
                stitcher.identifierIDs[identifier] = UInt32(stitcher.identifierList.count)
                stitcher.identifierList.append(identifier)
                stitcher.owner.append(owner)
                if owner >= 0 { stitcher.ownedIdentifierCount += 1 }
            }
        case .profile:
            let profile = try decodeProfile(&reader)
            let slot = Int32(stitcher.profiles.count)
            stitcher.profiles.append(profile)
            stitcher.slotByProfileID[profile.id] = slot
            for touchpoint in profile.touchpoints {
                stitcher.storedMessages.insert(MessageKey(sourceIndex: touchpoint.sourceIndex, messageID: touchpoint.messageID))
            }
        case .forwarding:
            let count = try reader.count()
            for _ in 0..<count {
                let from = try reader.string()
                stitcher.forwarding[from] = try reader.string()
            }
        case .merges:
            let count = try reader.count()
            for _ in 0..<count {
                let from = try reader.string()
                let into = try reader.string()
                let at = Timestamp(millisecondsSinceEpoch: try reader.i64())
                let messageID = try reader.string()
                let reason: MergeRecord.Reason
                switch try reader.u8() {
                case 1: reason = .sharedIdentifier
                case 2: reason = .alias
                case 3: reason = .earlierTouchpoint
                case 4: reason = .limit(IdentifierType(rawValue: try reader.string()))
                case let code: throw .malformed("merge reason \(code)")
                }
                stitcher.merges.append(MergeRecord(from: from, into: into, at: at, messageID: messageID, reason: reason))
            }
        case .footer:
            var counters = Stitcher.Counters()
            counters.eventsStored = Int(try reader.varint())
            counters.duplicates = Int(try reader.varint())
            counters.merges = Int(try reader.varint())
            counters.blockedMerges = Int(try reader.varint())
            counters.linksRefused = Int(try reader.varint())
            counters.touchpointsDroppedOverCap = Int(try reader.varint())
            stitcher.counters = counters
            sawFooter = true
        }
        guard reader.isAtEnd else { throw .malformed("checkpoint record has trailing bytes") }
    }

    private func decodeProfile(_ reader: inout BinaryReader) throws(BinaryDecodingError) -> ProfileRecord {
        let id = try reader.string()
        let anchor = TouchKey(timestamp: try reader.i64(), messageID: try reader.string(), source: try reader.string())
        var identifierIDs: [UInt32] = []
        var typeCounts = SmallMap<IdentifierType, Int>()
        for _ in 0..<(try reader.count()) {
            let identifier = try checkedIndex(reader.varint(), below: stitcher.identifierList.count)
            identifierIDs.append(UInt32(identifier))
            typeCounts[stitcher.identifierList[identifier].type, default: 0] += 1
        }
        var touchpoints: [StoredTouchpoint] = []
        let touchpointCount = try reader.count()
        touchpoints.reserveCapacity(touchpointCount)
        for _ in 0..<touchpointCount {
            let timestamp = try reader.i64()
            let receivedAt = try reader.i64()
            let messageID = try reader.string()
            let source = UInt32(try checkedIndex(reader.varint(), below: stitcher.sources.names.count))
            let channel = UInt32(try checkedIndex(reader.varint(), below: stitcher.channels.names.count))
            let name = UInt32(try checkedIndex(reader.varint(), below: stitcher.eventNames.names.count + 1))
            let type = try EventType(binaryCode: reader.u8())
            let phase = try Phase(binaryCode: reader.u8())
            var links: [UInt32] = []
            for _ in 0..<(try reader.count()) {
                links.append(UInt32(try checkedIndex(reader.varint(), below: stitcher.identifierList.count)))
            }
            let properties = Array(try reader.lengthPrefixed())
            touchpoints.append(
                StoredTouchpoint(
                    timestamp: timestamp, receivedAt: receivedAt, messageID: messageID, sourceIndex: source, channelIndex: channel,
                    nameIndex: name, type: type, phase: phase, links: IdentifierLinks(links), properties: properties))
        }
        let lastSeen = try reader.i64()
        var channelFirstUse = SmallMap<UInt32, Int64>()
        for _ in 0..<(try reader.count()) {
            let channel = UInt32(try checkedIndex(reader.varint(), below: stitcher.channels.names.count))
            channelFirstUse[channel] = try reader.i64()
        }
        var phaseFirstReached = SmallMap<Phase, Int64>()
        for _ in 0..<(try reader.count()) {
            guard let phase = try Phase(binaryCode: reader.u8()) else { throw .malformed("phase 0 in a profile") }
            phaseFirstReached[phase] = try reader.i64()
        }
        var traits: [String: TraitEntry] = [:]
        for _ in 0..<(try reader.count()) {
            let key = try reader.string()
            let json = Array(try reader.lengthPrefixed())
            traits[key] = TraitEntry(json: json, timestamp: try reader.i64(), messageID: try reader.string(), source: try reader.string())
        }
        var mergedFrom: [String] = []
        for _ in 0..<(try reader.count()) { mergedFrom.append(try reader.string()) }
        let dropped = Int(try reader.varint())
        return ProfileRecord(
            id: id, anchor: anchor, identifierIDs: identifierIDs, typeCounts: typeCounts, touchpoints: touchpoints, lastSeen: lastSeen,
            channelFirstUse: channelFirstUse, phaseFirstReached: phaseFirstReached, traits: traits, mergedFrom: mergedFrom,
            droppedTouchpoints: dropped)
    }

    private func checkedIndex(_ value: UInt64, below limit: Int) throws(BinaryDecodingError) -> Int {
        guard value < UInt64(limit) else { throw .malformed("index \(value) out of range \(limit)") }
        return Int(value)
    }
}
