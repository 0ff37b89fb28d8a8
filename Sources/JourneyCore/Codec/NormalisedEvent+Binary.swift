extension NormalisedEvent: BinaryEncodable {
    /// Version of the binary event encoding written into WAL records.
    static let binaryVersion: UInt8 = 1

    /// Appends the event's binary form (the payload of a WAL event record) in one piece.
    public func encode(into writer: inout BinaryWriter) {
        writer.append(self)
    }

    public func encode(to output: inout some BinaryOutput) {
        output.u8(Self.binaryVersion)
        keys.withMessageID { output.lengthPrefixed($0) }
        output.string(source)
        output.string(channel)
        output.u8(type.binaryCode)
        output.optionalString(name)
        output.i64(timestamp.millisecondsSinceEpoch)
        output.i64(receivedAt.millisecondsSinceEpoch)
        keys.withIdentifiers { identifiers in
            output.varint(identifiers.count)
            for identifier in identifiers {
                output.string(identifier.type.rawValue)
                output.lengthPrefixed(identifier.value)
            }
        }
        output.optionalString(aliasPreviousID)
        output.u8(phase?.binaryCode ?? 0)
        output.lengthPrefixed(properties)
        output.varint(traits.count)
        for trait in traits {
            output.string(trait.key)
            output.lengthPrefixed(trait.json)
        }
    }

    /// Reads an event written by `encode(into:)`.
    public init(decoding reader: inout BinaryReader) throws(BinaryDecodingError) {
        let version = try reader.u8()
        guard version == Self.binaryVersion else { throw .malformed("event encoding version \(version)") }
        var keys = EventKeys.Builder(messageID: try reader.string())
        source = try reader.string()
        channel = try reader.string()
        type = try EventType(binaryCode: reader.u8())
        name = try reader.optionalString()
        timestamp = Timestamp(millisecondsSinceEpoch: try reader.i64())
        receivedAt = Timestamp(millisecondsSinceEpoch: try reader.i64())
        let identifierCount = try reader.count()
        for _ in 0..<identifierCount {
            let type = IdentifierType(rawValue: try reader.string())
            let value = try reader.string()
            withUTF8Bytes(of: value) { keys.appendUnchecked(type, value: $0) }
        }
        self.keys = keys.finish()
        aliasPreviousID = try reader.optionalString()
        phase = try Phase(binaryCode: reader.u8())
        // Copied out: a slice would keep the whole buffer being decoded (a WAL segment) alive.
        properties = ArraySlice(Array(try reader.lengthPrefixed()))
        let traitCount = try reader.count()
        var traits: [TraitValue] = []
        traits.reserveCapacity(traitCount)
        for _ in 0..<traitCount {
            let key = try reader.string()
            traits.append(TraitValue(key: key, json: Array(try reader.lengthPrefixed())))
        }
        self.traits = traits
    }
}

extension EventType {
    /// The position in `allCases` (a switch: searching `allCases` cost a scan per event, twice).
    var binaryCode: UInt8 {
        switch self {
        case .track: 0
        case .identify: 1
        case .page: 2
        case .screen: 3
        case .group: 4
        case .alias: 5
        }
    }

    init(binaryCode: UInt8) throws(BinaryDecodingError) {
        guard Int(binaryCode) < Self.allCases.count else { throw .malformed("event type \(binaryCode)") }
        self = Self.allCases[Int(binaryCode)]
    }
}

extension Phase {
    /// 1…6; 0 encodes "no phase".
    var binaryCode: UInt8 { UInt8(Self.allCases.firstIndex(of: self)! + 1) }

    init?(binaryCode: UInt8) throws(BinaryDecodingError) {
        if binaryCode == 0 { return nil }
        guard Int(binaryCode) <= Self.allCases.count else { throw .malformed("phase \(binaryCode)") }
        self = Self.allCases[Int(binaryCode) - 1]
    }
}
