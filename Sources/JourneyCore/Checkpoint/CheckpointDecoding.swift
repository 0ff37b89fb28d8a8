/// One record of a checkpoint stream (see `Stitcher.writeCheckpoint`), decoded and checked but not
/// yet applied. Decoding (allocating every string and array) and applying (hashing everything
/// into the stitcher's tables) are separate so they can run on two threads.
public struct CheckpointRecord: Sendable {
    enum Content: Sendable {
        case header(sizeHints: [Int])
        case names(table: UInt8, [String])
        case identifiers([(Identifier, owner: Int32)])
        /// Its touchpoints' payload locations are offsets into `payloads` (block 0), until the
        /// assembler moves them into the stitcher's arena.
        case profile(ProfileRecord, payloads: [UInt8])
        case forwarding([(from: String, to: String)])
        case merges([MergeRecord])
        case footer(Stitcher.Counters)
    }

    let content: Content
}

/// Splits checkpoint bytes, fed in arbitrary chunks, into decoded records, checking their order
/// and every index they hold. One owner; not thread-safe.
public struct CheckpointRecordDecoder {
    private var carry: [UInt8] = []
    private var sawHeader = false
    private var sawFooter = false
    private var nameCounts: [Int] = [0, 0, 0]
    /// The type of every identifier decoded so far, by index (profiles count them per type).
    private var identifierTypes: [IdentifierType] = []

    public init() {}

    /// The complete records in the bytes fed so far.
    public mutating func consume(_ chunk: some Collection<UInt8>) throws(BinaryDecodingError) -> [CheckpointRecord] {
        carry.append(contentsOf: chunk)
        let (records, consumed) = try decodeRecords(in: carry)
        // The buffer is uniquely referenced again here, so this shifts the tail in place.
        carry.removeSubrange(0..<consumed)
        return records
    }

    /// Checks that the stream ended with its footer and nothing after it.
    public func finish() throws(BinaryDecodingError) {
        guard sawHeader, sawFooter, carry.isEmpty else { throw .malformed("checkpoint is incomplete (no footer)") }
    }

    private mutating func decodeRecords(in buffer: [UInt8]) throws(BinaryDecodingError) -> ([CheckpointRecord], Int) {
        var records: [CheckpointRecord] = []
        var reader = BinaryReader(buffer[...])
        var consumed = 0
        while !reader.isAtEnd {
            var probe = reader
            guard let length = try? probe.varint(), UInt64(probe.remaining) >= length else { break }
            records.append(try decode(try probe.bytes(count: Int(length))))
            reader = probe
            consumed = reader.position
        }
        return (records, consumed)
    }

    private mutating func decode(_ body: ArraySlice<UInt8>) throws(BinaryDecodingError) -> CheckpointRecord {
        var reader = BinaryReader(body)
        guard let kind = CheckpointRecordKind(rawValue: try reader.u8()) else { throw .malformed("unknown checkpoint record") }
        guard sawHeader || kind == .header else { throw .malformed("checkpoint does not start with a header") }
        guard !sawFooter else { throw .malformed("data after the checkpoint footer") }
        let content: CheckpointRecord.Content
        switch kind {
        case .header:
            let version = try reader.u32()
            guard version == Stitcher.checkpointVersion else { throw .malformed("checkpoint version \(version)") }
            // Only hints: clamped, so a damaged header cannot ask for absurd allocations.
            var hints: [Int] = []
            for _ in 0..<4 { hints.append(Int(min(try reader.varint(), 1 << 28))) }
            content = .header(sizeHints: hints)
            sawHeader = true
        case .names:
            let table = try reader.u8()
            guard Int(table) < nameCounts.count else { throw .malformed("name table \(table)") }
            var names: [String] = []
            for _ in 0..<(try reader.count()) { names.append(try reader.string()) }
            nameCounts[Int(table)] += names.count
            content = .names(table: table, names)
        case .identifiers:
            var identifiers: [(Identifier, owner: Int32)] = []
            for _ in 0..<(try reader.count()) {
                let identifier = Identifier(type: IdentifierType(rawValue: try reader.string()), value: try reader.string())
                identifiers.append((identifier, Int32(try reader.varint()) - 1))
                identifierTypes.append(identifier.type)
            }
            content = .identifiers(identifiers)
        case .profile:
            let (profile, payloads) = try decodeProfile(&reader)
            content = .profile(profile, payloads: payloads)
        case .forwarding:
            var pairs: [(from: String, to: String)] = []
            for _ in 0..<(try reader.count()) { pairs.append((try reader.string(), try reader.string())) }
            content = .forwarding(pairs)
        case .merges:
            var merges: [MergeRecord] = []
            for _ in 0..<(try reader.count()) { merges.append(try decodeMerge(&reader)) }
            content = .merges(merges)
        case .footer:
            var counters = Stitcher.Counters()
            counters.eventsStored = Int(try reader.varint())
            counters.duplicates = Int(try reader.varint())
            counters.merges = Int(try reader.varint())
            counters.blockedMerges = Int(try reader.varint())
            counters.linksRefused = Int(try reader.varint())
            counters.touchpointsDroppedOverCap = Int(try reader.varint())
            content = .footer(counters)
            sawFooter = true
        }
        guard reader.isAtEnd else { throw .malformed("checkpoint record has trailing bytes") }
        return CheckpointRecord(content: content)
    }

    private func decodeMerge(_ reader: inout BinaryReader) throws(BinaryDecodingError) -> MergeRecord {
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
        return MergeRecord(from: from, into: into, at: at, messageID: messageID, reason: reason)
    }

    private func decodeProfile(_ reader: inout BinaryReader) throws(BinaryDecodingError) -> (ProfileRecord, payloads: [UInt8]) {
        let (sources, channels, eventNames) = (nameCounts[0], nameCounts[1], nameCounts[2])
        let id = try reader.string()
        let anchor = TouchKey(timestamp: try reader.i64(), messageID: try reader.string(), source: try reader.string())
        var identifierIDs: [UInt32] = []
        var typeCounts = SmallMap<IdentifierType, Int>()
        for _ in 0..<(try reader.count()) {
            let identifier = try checkedIndex(reader.varint(), below: identifierTypes.count)
            identifierIDs.append(UInt32(identifier))
            typeCounts[identifierTypes[identifier], default: 0] += 1
        }
        var touchpoints: [StoredTouchpoint] = []
        var payloads: [UInt8] = []
        let touchpointCount = try reader.count()
        touchpoints.reserveCapacity(touchpointCount)
        var links: [UInt32] = []
        for _ in 0..<touchpointCount {
            let timestamp = try reader.i64()
            let receivedAt = try reader.i64()
            let messageID = try reader.lengthPrefixed()
            guard messageID.count <= Int(UInt16.max) else { throw .malformed("message id of \(messageID.count) bytes") }
            let source = UInt32(try checkedIndex(reader.varint(), below: sources))
            let channel = UInt32(try checkedIndex(reader.varint(), below: channels))
            let name = UInt32(try checkedIndex(reader.varint(), below: eventNames + 1))
            let type = try EventType(binaryCode: reader.u8())
            let phase = try Phase(binaryCode: reader.u8())
            links.removeAll(keepingCapacity: true)
            for _ in 0..<(try reader.count()) {
                links.append(UInt32(try checkedIndex(reader.varint(), below: identifierTypes.count)))
            }
            guard links.count <= Int(UInt8.max) else { throw .malformed("\(links.count) links on one touchpoint") }
            let properties = try reader.lengthPrefixed()
            let offset = payloads.count
            let size = TouchpointPayload.size(messageID: messageID.count, links: links.count, properties: properties.count)
            payloads.append(contentsOf: repeatElement(0, count: size))
            payloads.withUnsafeMutableBytes { out in
                messageID.withUnsafeBytes { messageID in
                    properties.withUnsafeBytes { properties in
                        TouchpointPayload.write(
                            into: UnsafeMutableRawBufferPointer(rebasing: out[offset..<(offset + size)]), source: source,
                            messageID: messageID, links: links, properties: properties)
                    }
                }
            }
            touchpoints.append(
                StoredTouchpoint(
                    timestamp: timestamp, receivedAt: receivedAt, payload: PayloadLocation(block: 0, offset: UInt32(offset)),
                    propertiesLength: UInt32(properties.count), sourceIndex: source, channelIndex: channel, nameIndex: name, type: type,
                    phase: phase))
        }
        let lastSeen = try reader.i64()
        var channelFirstUse = SmallMap<UInt32, Int64>()
        for _ in 0..<(try reader.count()) {
            let channel = UInt32(try checkedIndex(reader.varint(), below: channels))
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
        let profile = ProfileRecord(
            id: id, anchor: anchor, identifierIDs: identifierIDs, typeCounts: typeCounts, touchpoints: touchpoints, lastSeen: lastSeen,
            channelFirstUse: channelFirstUse, phaseFirstReached: phaseFirstReached, traits: traits, mergedFrom: mergedFrom,
            droppedTouchpoints: dropped)
        return (profile, payloads)
    }

    private func checkedIndex(_ value: UInt64, below limit: Int) throws(BinaryDecodingError) -> Int {
        guard value < UInt64(limit) else { throw .malformed("index \(value) out of range \(limit)") }
        return Int(value)
    }
}

/// Builds a `Stitcher` from decoded checkpoint records, applied in stream order. One owner; not
/// thread-safe.
public struct StitcherCheckpointAssembler {
    private var stitcher: Stitcher
    private var sawFooter = false

    public init(policy: IdentityPolicy, maxTouchpointsPerProfile: Int) {
        stitcher = Stitcher(policy: policy, maxTouchpointsPerProfile: maxTouchpointsPerProfile)
    }

    public mutating func apply(_ record: CheckpointRecord) {
        switch record.content {
        case .header(let hints):
            stitcher.slotByProfileID.reserveCapacity(hints[0])
            stitcher.messageIndex.reserveCapacity(hints[1])
            stitcher.identifierIDs.reserveCapacity(hints[2])
            stitcher.forwarding.reserveCapacity(hints[3])
        case .names(let table, let names):
            for name in names {
                switch table {
                case 0: _ = stitcher.sources.intern(name)
                case 1: _ = stitcher.channels.intern(name)
                default: _ = stitcher.eventNames.intern(name)
                }
            }
        case .identifiers(let identifiers):
            for (identifier, owner) in identifiers {
                stitcher.identifierIDs[identifier] = UInt32(stitcher.identifierList.count)
                stitcher.identifierList.append(identifier)
                stitcher.owner.append(owner)
                if owner >= 0 { stitcher.ownedIdentifierCount += 1 }
            }
        case .profile(var profile, let payloads):
            let slot = Int32(stitcher.profiles.count)
            payloads.withUnsafeBytes { payloads in
                for index in profile.touchpoints.indices {
                    let local = TouchpointPayload(bytes: UnsafeRawBufferPointer(rebasing: payloads[Int(profile.touchpoints[index].payload.offset)...]))
                    let size = local.size(propertiesLength: profile.touchpoints[index].propertiesLength)
                    let location = stitcher.payloads.append(count: size) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: local.bytes[..<size])) }
                    stitcher.messageIndex.insert(MessageIndex.fingerprint(source: local.sourceIndex, messageID: local.messageID), at: location)
                    profile.touchpoints[index].payload = location
                }
            }
            stitcher.slotByProfileID[profile.id] = slot
            stitcher.profiles.append(profile)
        case .forwarding(let pairs):
            for (from, to) in pairs { stitcher.forwarding[from] = to }
        case .merges(let merges):
            for merge in merges { stitcher.merges.append(merge) }
        case .footer(let counters):
            stitcher.counters = counters
            sawFooter = true
        }
    }

    public func finish() throws(BinaryDecodingError) -> Stitcher {
        guard sawFooter else { throw .malformed("checkpoint is incomplete (no footer)") }
        return stitcher
    }
}
