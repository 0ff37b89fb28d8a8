/// A `StitcherOperation` as the WAL records it: the operation and when it was asked for.
public struct RecordedOperation: Sendable, Equatable {
    public var operation: StitcherOperation
    public var at: Timestamp

    public init(_ operation: StitcherOperation, at: Timestamp) {
        self.operation = operation
        self.at = at
    }

    static let binaryVersion: UInt8 = 1

    /// Appends the binary form (the payload of a WAL operation record).
    public func encode(into writer: inout BinaryWriter) {
        writer.u8(Self.binaryVersion)
        writer.i64(at.millisecondsSinceEpoch)
        switch operation {
        case .erase(let id, let suppress):
            writer.u8(1)
            writer.u64(id.value)
            writer.u8(suppress ? 1 : 0)
        case .eraseIdentifier(let identifier, let suppress):
            writer.u8(2)
            Self.encode(identifier, into: &writer)
            writer.u8(suppress ? 1 : 0)
        case .splitSharing(let id, let identifier):
            writer.u8(3)
            writer.u64(id.value)
            Self.encode(identifier, into: &writer)
        case .splitUndoingMerge(let id, let from):
            writer.u8(4)
            writer.u64(id.value)
            writer.u64(from.value)
        }
    }

    /// Reads an operation written by `encode(into:)`.
    public init(decoding reader: inout BinaryReader) throws(BinaryDecodingError) {
        let version = try reader.u8()
        guard version == Self.binaryVersion else { throw .malformed("operation encoding version \(version)") }
        at = Timestamp(millisecondsSinceEpoch: try reader.i64())
        switch try reader.u8() {
        case 1: operation = .erase(ProfileID(value: try reader.u64()), suppress: try reader.u8() == 1)
        case 2: operation = .eraseIdentifier(try Self.decodeIdentifier(&reader), suppress: try reader.u8() == 1)
        case 3: operation = .splitSharing(ProfileID(value: try reader.u64()), try Self.decodeIdentifier(&reader))
        case 4: operation = .splitUndoingMerge(ProfileID(value: try reader.u64()), from: ProfileID(value: try reader.u64()))
        case let kind: throw .malformed("operation kind \(kind)")
        }
        guard reader.isAtEnd else { throw .malformed("operation record has trailing bytes") }
    }

    private static func encode(_ identifier: Identifier, into writer: inout BinaryWriter) {
        writer.string(identifier.type.rawValue)
        writer.string(identifier.value)
    }

    private static func decodeIdentifier(_ reader: inout BinaryReader) throws(BinaryDecodingError) -> Identifier {
        Identifier(type: IdentifierType(rawValue: try reader.string()), value: try reader.string())
    }
}

extension StitcherOperation {
    /// One line for people (`journeyctl wal dump`, logs at debug level): the operation with the
    /// identifier type but without its value.
    public var summary: String {
        switch self {
        case .erase(let id, let suppress): return "erase \(id)\(suppress ? " suppress" : "")"
        case .eraseIdentifier(let identifier, let suppress): return "erase by \(identifier.type.rawValue)\(suppress ? " suppress" : "")"
        case .splitSharing(let id, let identifier): return "split \(id) sharing a \(identifier.type.rawValue)"
        case .splitUndoingMerge(let id, let from): return "split \(id) undoing the merge of \(from)"
        }
    }
}
