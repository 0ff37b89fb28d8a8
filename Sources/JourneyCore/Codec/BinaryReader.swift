/// Reads what `BinaryWriter` wrote, refusing truncated or malformed input with `BinaryDecodingError`.
/// A value type over a byte slice; one owner at a time.
public struct BinaryReader {
    private let buffer: ArraySlice<UInt8>
    public private(set) var position: Int

    public init(_ bytes: ArraySlice<UInt8>) {
        self.buffer = bytes
        self.position = buffer.startIndex
    }

    public var isAtEnd: Bool { position == buffer.endIndex }
    public var remaining: Int { buffer.endIndex - position }

    public mutating func u8() throws(BinaryDecodingError) -> UInt8 {
        guard position < buffer.endIndex else { throw .truncated }
        defer { position += 1 }
        return buffer[position]
    }

    public mutating func u32() throws(BinaryDecodingError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated }
        var value: UInt32 = 0
        for shift in 0..<4 { value |= UInt32(buffer[position + shift]) << (8 * shift) }
        position += 4
        return value
    }

    public mutating func u64() throws(BinaryDecodingError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated }
        var value: UInt64 = 0
        for shift in 0..<8 { value |= UInt64(buffer[position + shift]) << (8 * shift) }
        position += 8
        return value
    }

    public mutating func i64() throws(BinaryDecodingError) -> Int64 {
        Int64(bitPattern: try u64())
    }

    public mutating func varint() throws(BinaryDecodingError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try u8()
            guard shift < 64 else { throw .malformed("varint longer than 64 bits") }
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// A varint used as a count or length, bounded by what is left to read.
    public mutating func count() throws(BinaryDecodingError) -> Int {
        let value = try varint()
        guard value <= UInt64(remaining) else { throw .truncated }
        return Int(value)
    }

    public mutating func lengthPrefixed() throws(BinaryDecodingError) -> ArraySlice<UInt8> {
        try bytes(count: try count())
    }

    /// The next `count` bytes.
    public mutating func bytes(count: Int) throws(BinaryDecodingError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw .truncated }
        defer { position += count }
        return buffer[position..<position + count]
    }

    public mutating func string() throws(BinaryDecodingError) -> String {
        let slice = try lengthPrefixed()
        guard let text = String(validating: slice, as: UTF8.self) else { throw .malformed("string is not UTF-8") }
        return text
    }

    public mutating func optionalString() throws(BinaryDecodingError) -> String? {
        switch try u8() {
        case 0: return nil
        case 1: return try string()
        case let flag: throw .malformed("optional flag \(flag)")
        }
    }
}

/// Binary data that does not decode: cut short, or not what the format allows.
public enum BinaryDecodingError: Error, Equatable, CustomStringConvertible {
    case truncated
    case malformed(String)

    public var description: String {
        switch self {
        case .truncated: return "record is truncated"
        case .malformed(let what): return "record is malformed: \(what)"
        }
    }
}
