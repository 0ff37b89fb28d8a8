/// One record of a checkpoint stream (see `Stitcher.writeCheckpoint`), decoded and checked but not
/// yet applied. Decoding (allocating every string and array) and applying (hashing everything
/// into the stitcher's tables) are separate so they can run on two threads.
public struct CheckpointRecord: Sendable {
    struct DecodedIdentifier: Sendable {
        var identifier: Identifier
        var owner: Int32
        var flags: UInt8
        var users: [UInt32]
    }

    enum Content: Sendable {
        case header(sizeHints: [Int])
        case names(table: UInt8, [String])
        case identifiers([DecodedIdentifier])
        /// Its touchpoints' payloads are already in the decoder's arena (which the footer
        /// carries); `fingerprints` are their message fingerprints, in touchpoint order.
        case profile(ProfileRecord, fingerprints: [UInt64])
        case forwarding([(from: ProfileID, to: ProfileID)])
        case superseded([MergeRecord])
        case shared([SharedIdentifier])
        case splitRules([SplitRules.Rule])
        case splitLog([MergeRecord])
        case suppressed([SuppressionDigest])
        /// Last: the counters, and the arena holding every profile's touchpoint payloads.
        case footer(Stitcher.Counters, payloads: PayloadArena)
    }

    let content: Content
}

/// Splits checkpoint bytes, fed in arbitrary chunks, into decoded records, checking their order
/// and every index they hold. Touchpoint payloads go straight into the arena the stitcher will
/// use (handed over with the footer), so the thread that decodes also does the copying and the
/// hashing of message ids. One owner; not thread-safe.
public struct CheckpointRecordDecoder {
    private var carry: [UInt8] = []
    private var payloads = PayloadArena()
    private let newPayloadBlock: () -> [UInt8]
    private var sawHeader = false
    private var sawFooter = false
    private var nameCounts: [Int] = [0, 0, 0]
    /// The type of every identifier decoded so far, by index (profiles count them per type).
    private var identifierTypes: [IdentifierType] = []
    /// How many identifiers the header says the stream holds (shared-identifier evidence may name
    /// identifiers of later chunks; the footer checks the count).
    private var declaredIdentifiers = 0

    /// The room each payload block needs (a smaller block is grown).
    public static let payloadBlockBytes = PayloadArena.blockSize

    /// `newPayloadBlock` supplies each empty payload block (see `PayloadArena.append`).
    public init(newPayloadBlock: @escaping () -> [UInt8] = { [] }) {
        self.newPayloadBlock = newPayloadBlock
    }

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

    private func chunk<Element>(_ reader: inout BinaryReader, _ element: (inout BinaryReader) throws(BinaryDecodingError) -> Element) throws(BinaryDecodingError) -> [Element] {
        var elements: [Element] = []
        for _ in 0..<(try reader.count()) { elements.append(try element(&reader)) }
        return elements
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
            guard version == Stitcher.checkpointVersion else {
                throw .malformed("checkpoint format \(version) (this journeyd reads format \(Stitcher.checkpointVersion))")
            }
            // Only hints: clamped, so a damaged header cannot ask for absurd allocations.
            var hints: [Int] = []
            for _ in 0..<4 { hints.append(Int(min(try reader.varint(), 1 << 28))) }
            declaredIdentifiers = hints[2]
            content = .header(sizeHints: hints)
            sawHeader = true
        case .names:
            let table = try reader.u8()
            guard Int(table) < nameCounts.count else { throw .malformed("name table \(table)") }
            let names = try chunk(&reader) { reader throws(BinaryDecodingError) in try reader.string() }
            nameCounts[Int(table)] += names.count
            content = .names(table: table, names)
        case .identifiers:
            let identifiers = try chunk(&reader) { reader throws(BinaryDecodingError) in
                let identifier = Identifier(type: IdentifierType(rawValue: try reader.string()), value: try reader.string())
                let owner = Int32(try reader.varint()) - 1
                let flags = try reader.u8()
                let users = try chunk(&reader) { reader throws(BinaryDecodingError) in UInt32(try reader.varint()) }
                return CheckpointRecord.DecodedIdentifier(identifier: identifier, owner: owner, flags: flags, users: users)
            }
            identifierTypes += identifiers.map(\.identifier.type)
            for identifier in identifiers {
                for user in identifier.users { _ = try checkedIndex(UInt64(user), below: declaredIdentifiers) }
            }
            content = .identifiers(identifiers)
        case .profile:
            let (profile, fingerprints) = try decodeProfile(&reader)
            content = .profile(profile, fingerprints: fingerprints)
        case .forwarding:
            content = .forwarding(try chunk(&reader) { reader throws(BinaryDecodingError) in
                (ProfileID(value: try reader.u64()), ProfileID(value: try reader.u64()))
            })
        case .superseded:
            content = .superseded(try chunk(&reader) { reader throws(BinaryDecodingError) in try Self.decodeMerge(&reader) })
        case .shared:
            let types = identifierTypes.count
            content = .shared(try chunk(&reader) { reader throws(BinaryDecodingError) in
                let identifier = UInt32(try Self.checkedIndex(reader.varint(), below: types))
                let reason: SharedIdentifier.Reason = try reader.u8() == 1 ? .declared : .automatic
                return SharedIdentifier(identifier: identifier, reason: reason, at: try reader.i64())
            })
        case .splitRules:
            content = .splitRules(try chunk(&reader) { reader throws(BinaryDecodingError) in
                SplitRules.Rule(first: try Self.decodeKey(&reader), second: try Self.decodeKey(&reader))
            })
        case .splitLog:
            content = .splitLog(try chunk(&reader) { reader throws(BinaryDecodingError) in try Self.decodeMerge(&reader) })
        case .suppressed:
            content = .suppressed(try chunk(&reader) { reader throws(BinaryDecodingError) in
                SuppressionDigest(high: try reader.u64(), low: try reader.u64())
            })
        case .footer:
            var values: [Int] = []
            for _ in 0..<Stitcher.Counters().checkpointValues.count { values.append(Int(try reader.varint())) }
            guard identifierTypes.count == declaredIdentifiers else {
                throw .malformed("checkpoint holds \(identifierTypes.count) identifiers, its header says \(declaredIdentifiers)")
            }
            content = .footer(Stitcher.Counters(checkpointValues: values), payloads: payloads)
            // The stitcher becomes the arena's only owner, so its appends never copy it.
            payloads = PayloadArena()
            sawFooter = true
        }
        guard reader.isAtEnd else { throw .malformed("checkpoint record has trailing bytes") }
        return CheckpointRecord(content: content)
    }

    static func decodeKey(_ reader: inout BinaryReader) throws(BinaryDecodingError) -> TouchKey {
        TouchKey(timestamp: try reader.i64(), messageID: try reader.string(), source: try reader.string())
    }

    static func decodeMerge(_ reader: inout BinaryReader) throws(BinaryDecodingError) -> MergeRecord {
        let from = ProfileID(value: try reader.u64())
        let into = ProfileID(value: try reader.u64())
        let at = Timestamp(millisecondsSinceEpoch: try reader.i64())
        let messageID = try reader.optionalString()
        let reason: MergeRecord.Reason
        switch try reader.u8() {
        case 1: reason = .sharedIdentifier
        case 2: reason = .alias
        case 4: reason = .limit(IdentifierType(rawValue: try reader.string()))
        case 5: reason = .keptApart
        case 6: reason = .superseded
        case 7:
            guard let cause = MergeRecord.SplitCause(rawValue: try reader.string()) else { throw .malformed("split cause") }
            reason = .split(cause)
        case let code: throw .malformed("merge reason \(code)")
        }
        return MergeRecord(from: from, into: into, at: at, messageID: messageID, reason: reason)
    }

    private mutating func decodeProfile(_ reader: inout BinaryReader) throws(BinaryDecodingError) -> (ProfileRecord, fingerprints: [UInt64]) {
        let (sources, channels, eventNames) = (nameCounts[0], nameCounts[1], nameCounts[2])
        var profile = ProfileRecord(id: ProfileID(value: try reader.u64()), lastSeen: 0)
        for _ in 0..<(try reader.count()) {
            let identifier = try checkedIndex(reader.varint(), below: identifierTypes.count)
            profile.identifierIDs.append(UInt32(identifier))
            profile.typeCounts[identifierTypes[identifier], default: 0] += 1
        }
        let touchpointCount = try reader.count()
        profile.touchpoints.reserveCapacity(touchpointCount)
        var fingerprints: [UInt64] = []
        fingerprints.reserveCapacity(touchpointCount)
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
            let alias = try reader.u8() & TouchpointPayload.aliasFlag != 0
            links.removeAll(keepingCapacity: true)
            for _ in 0..<(try reader.count()) {
                links.append(UInt32(try checkedIndex(reader.varint(), below: identifierTypes.count)))
            }
            guard links.count <= Int(UInt8.max), !alias || links.count >= 2 else { throw .malformed("\(links.count) links on one touchpoint") }
            let traits = try reader.lengthPrefixed()
            let properties = try reader.lengthPrefixed()
            let size = TouchpointPayload.size(messageID: messageID.count, links: links.count, traits: traits.count, properties: properties.count)
            let location = messageID.withUnsafeBytes { messageID in
                fingerprints.append(MessageIndex.fingerprint(source: source, messageID: messageID))
                return traits.withUnsafeBytes { traits in
                    properties.withUnsafeBytes { properties in
                        payloads.append(count: size, newBlock: newPayloadBlock) { out in
                            TouchpointPayload.write(
                                into: out, source: source, messageID: messageID, links: links, alias: alias, traits: traits, properties: properties)
                        }
                    }
                }
            }
            profile.touchpoints.append(
                StoredTouchpoint(
                    timestamp: timestamp, receivedAt: receivedAt, payload: location,
                    propertiesLength: UInt32(properties.count), sourceIndex: source, channelIndex: channel, nameIndex: name, type: type,
                    phase: phase))
        }
        profile.lastSeen = try reader.i64()
        for _ in 0..<(try reader.count()) {
            let channel = UInt32(try checkedIndex(reader.varint(), below: channels))
            profile.channelFirstUse[channel] = try reader.i64()
        }
        for _ in 0..<(try reader.count()) {
            guard let phase = try Phase(binaryCode: reader.u8()) else { throw .malformed("phase 0 in a profile") }
            profile.phaseFirstReached[phase] = try reader.i64()
        }
        for _ in 0..<(try reader.count()) {
            let key = try reader.string()
            let json = Array(try reader.lengthPrefixed())
            profile.traits[key] = TraitEntry(json: json, setBy: try Self.decodeKey(&reader))
        }
        for _ in 0..<(try reader.count()) { profile.history.append(try Self.decodeMerge(&reader)) }
        profile.linksRefused = Int(try reader.varint())
        if try reader.u8() == 1 {
            profile.retained = RetainedHistory(anchor: try Self.decodeKey(&reader), count: Int(try reader.varint()))
        }
        for _ in 0..<(try reader.count()) { profile.pins.append(UInt32(try reader.varint())) }
        guard !profile.touchpoints.isEmpty || profile.retained != nil else { throw .malformed("profile \(profile.id) has no touchpoints") }
        return (profile, fingerprints)
    }

    private func checkedIndex(_ value: UInt64, below limit: Int) throws(BinaryDecodingError) -> Int {
        try Self.checkedIndex(value, below: limit)
    }

    private static func checkedIndex(_ value: UInt64, below limit: Int) throws(BinaryDecodingError) -> Int {
        guard value < UInt64(limit) else { throw .malformed("index \(value) out of range \(limit)") }
        return Int(value)
    }
}

/// Builds a `Stitcher` from decoded checkpoint records, applied in stream order. One owner; not
/// thread-safe.
public struct StitcherCheckpointAssembler {
    private var stitcher: Stitcher
    private var sawFooter = false
    /// Split rules find their touchpoints in the payload arena, which arrives with the footer.
    private var splitRules: [SplitRules.Rule] = []

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
            for decoded in identifiers {
                stitcher.restoreIdentifier(decoded)
            }
        case .profile(let profile, let fingerprints):
            let slot = Int32(stitcher.profiles.count)
            for (touchpoint, fingerprint) in zip(profile.touchpoints, fingerprints) {
                stitcher.messageIndex.insert(fingerprint, at: touchpoint.payload)
            }
            stitcher.slotByProfileID[profile.id] = slot
            stitcher.profiles.append(profile)
        case .forwarding(let pairs):
            for (from, to) in pairs { stitcher.forwarding[from] = to }
        case .superseded(let rows):
            for row in rows { stitcher.superseded[row.from] = row }
        case .shared(let shared):
            stitcher.sharedIdentifiers += shared
        case .splitRules(let rules):
            splitRules += rules
        case .splitLog(let rows):
            stitcher.splitLog += rows
        case .suppressed(let digests):
            stitcher.suppressed.formUnion(digests)
        case .footer(let counters, let payloads):
            stitcher.payloads = payloads
            for rule in splitRules { stitcher.restoreSplitRule(rule) }
            splitRules = []
            stitcher.counters = counters
            sawFooter = true
        }
    }

    public mutating func finish() throws(BinaryDecodingError) -> Stitcher {
        guard sawFooter else { throw .malformed("checkpoint is incomplete (no footer)") }
        stitcher.rebuildComponents()
        return stitcher
    }
}

extension Stitcher {
    mutating func restoreIdentifier(_ decoded: CheckpointRecord.DecodedIdentifier) {
        let id = UInt32(identifierList.count)
        let flags = IdentifierFlags(rawValue: decoded.flags)
        if !flags.contains(.erased) { identifierIDs.insert(id, hash: IdentifierIndex.hash(of: decoded.identifier)) }
        identifierList.append(decoded.identifier)
        owner.append(decoded.owner)
        identifierFlags.append(flags)
        clusters.append(id)
        sharedEvidence.append()
        sharedEvidence.restore(id, users: decoded.users)
        if decoded.owner >= 0 { ownedIdentifierCount += 1 }
    }

    mutating func restoreSplitRule(_ rule: SplitRules.Rule) {
        splitRules.add(first: rule.first, at: location(of: rule.first), second: rule.second, at: location(of: rule.second))
    }

    /// Where the stored touchpoint with this key is, if it is stored.
    func location(of key: TouchKey) -> PayloadLocation? {
        guard let source = sources.index(of: key.source) else { return nil }
        return withUTF8Bytes(of: key.messageID) { storedLocation(source: source, messageID: $0) }
    }

    /// Rebuilds the components (`IdentifierClusters`) from the profiles and their edges after a
    /// checkpoint load: a profile's identifiers are one component with it; its touchpoints add
    /// the edges to identifiers other profiles own or none does (which also means the component
    /// saw a refusal). What each component's history involved comes from the profiles' histories.
    mutating func rebuildComponents() {
        for slot in 0..<profiles.count {
            guard let record = profiles[slot] else { continue }
            guard var root = record.identifierIDs.first else { continue }
            for id in record.identifierIDs.dropFirst() { root = joinComponents(root, id) }
            var involved: ComponentHistory = []
            if record.history.contains(where: \.isMerge) { involved.insert(.merged) }
            if record.linksRefused > 0 || record.history.contains(where: \.blocked) { involved.insert(.refused) }
            for touchpoint in record.touchpoints {
                if touchpoint.type == .alias { involved.insert(.alias) }
                for link in componentLinks(of: touchpoint) where owner[Int(link)] != Int32(slot) {
                    root = joinComponents(root, link)
                    involved.insert(.refused)
                }
            }
            if !involved.isEmpty { clusters.noteHistory(involved, ofRoot: clusters.root(of: root)) }
            if let last = record.touchpoints.last { noteLatest(last.reference, inComponentOf: root) }
        }
    }
}
