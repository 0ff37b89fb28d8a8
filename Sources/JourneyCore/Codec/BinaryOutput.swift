/// Where a binary encoding goes: little-endian fixed-width integers, LEB128 varints and
/// length-prefixed byte strings. One encoding function, generic over its output, can first
/// count its bytes (`BinaryByteCount`) and then write them in one piece (`BinaryCursor`), so a
/// record's layout is written down once.
public protocol BinaryOutput {
    mutating func u8(_ value: UInt8)
    mutating func u32(_ value: UInt32)
    mutating func u64(_ value: UInt64)
    /// Appends bytes as they are, with no length prefix.
    mutating func raw(_ bytes: UnsafeRawBufferPointer)
    /// A length-prefixed string (default: its length as a varint, then its UTF-8 bytes).
    mutating func string(_ value: String)
}

extension BinaryOutput {
    public mutating func i64(_ value: Int64) {
        u64(UInt64(bitPattern: value))
    }

    public mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            u8(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        u8(UInt8(rest))
    }

    public mutating func varint(_ value: Int) {
        precondition(value >= 0, "varint encodes non-negative counts and lengths")
        varint(UInt64(value))
    }

    public mutating func lengthPrefixed(_ value: some Collection<UInt8>) {
        varint(value.count)
        if value.withContiguousStorageIfAvailable({ raw(UnsafeRawBufferPointer($0)) }) == nil {
            Array(value).withUnsafeBytes { raw($0) }
        }
    }

    /// Length-prefixed bytes copied in one piece.
    public mutating func lengthPrefixed(_ value: UnsafeRawBufferPointer) {
        varint(value.count)
        raw(value)
    }

    /// A length-prefixed string, its bytes copied in one piece (`String.UTF8View` as a generic
    /// collection is copied through a slower path).
    public mutating func string(_ value: String) {
        withUTF8Bytes(of: value) { lengthPrefixed($0) }
    }

    public mutating func optionalString(_ value: String?) {
        if let value {
            u8(1)
            string(value)
        } else {
            u8(0)
        }
    }
}

/// A value with a binary encoding that a `BinaryWriter` can append in one piece
/// (`BinaryWriter.append(_:)`).
public protocol BinaryEncodable {
    func encode(to output: inout some BinaryOutput)
}

/// Counts the bytes an encoding writes, and writes nothing.
struct BinaryByteCount: BinaryOutput {
    private(set) var count = 0

    init() {}

    mutating func u8(_ value: UInt8) { count += 1 }
    mutating func u32(_ value: UInt32) { count += 4 }
    mutating func u64(_ value: UInt64) { count += 8 }
    mutating func raw(_ bytes: UnsafeRawBufferPointer) { count += bytes.count }

    /// Counted from the string's length alone, without reaching its bytes.
    mutating func string(_ value: String) {
        let length = value.utf8.count
        varint(length)
        count += length
    }
}

/// Writes an encoding into memory whose size was counted beforehand, with no bounds or
/// uniqueness checks per field. Lives only inside `BinaryWriter.append(_:)`, which checks that
/// exactly the counted bytes were written.
struct BinaryCursor: BinaryOutput {
    private(set) var position: UnsafeMutableRawPointer

    init(_ start: UnsafeMutableRawPointer) {
        position = start
    }

    mutating func u8(_ value: UInt8) {
        position.storeBytes(of: value, as: UInt8.self)
        position += 1
    }

    mutating func u32(_ value: UInt32) {
        position.storeBytes(of: value.littleEndian, as: UInt32.self)
        position += 4
    }

    mutating func u64(_ value: UInt64) {
        position.storeBytes(of: value.littleEndian, as: UInt64.self)
        position += 8
    }

    mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress else { return }
        position.copyMemory(from: source, byteCount: bytes.count)
        position += bytes.count
    }
}
