/// Appends a compact binary encoding (`BinaryOutput`) to a byte buffer: little-endian
/// fixed-width integers, LEB128 varints and length-prefixed byte strings. The WAL and
/// checkpoints are built with it. A value type; one owner at a time.
public struct BinaryWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// A writer that appends to `bytes`, for a caller that frames what is written (a log
    /// record's header before it); `takeBytes()` hands them back.
    public init(appendingTo bytes: consuming [UInt8]) {
        self.bytes = bytes
    }

    /// The bytes written, handed back without a copy; the writer is used up.
    public consuming func takeBytes() -> [UInt8] {
        bytes
    }

    /// Calls `body` with the bytes written so far, to fill in room left earlier (a frame header).
    public mutating func withUnsafeMutableBytes<Result>(_ body: (UnsafeMutableRawBufferPointer) throws -> Result) rethrows -> Result {
        try bytes.withUnsafeMutableBytes(body)
    }

    /// Appends bytes as they are, with no length prefix.
    public mutating func raw(_ value: [UInt8]) {
        bytes.append(contentsOf: value)
    }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
    }

    public mutating func u8(_ value: UInt8) {
        bytes.append(value)
    }

    public mutating func u32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func u64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends a length-prefixed byte string that `fill` writes in place, after room left for a
    /// prefix of `expectedPrefixBytes`; the bytes are moved only when their varint length needs
    /// another number of bytes. Saves building the string in a buffer of its own and copying it.
    public mutating func lengthPrefixed(expectedPrefixBytes: Int = 2, _ fill: (inout BinaryWriter) throws -> Void) rethrows {
        let start = bytes.count
        bytes.appendZeros(expectedPrefixBytes)
        try fill(&self)
        var prefix = BinaryWriter(capacity: 10)
        prefix.varint(bytes.count - start - expectedPrefixBytes)
        bytes.replaceSubrange(start..<(start + expectedPrefixBytes), with: prefix.bytes)
    }

    /// Appends `value`'s encoding in one piece: its bytes are counted first, then written through
    /// a `BinaryCursor`, with one capacity and uniqueness check for the whole instead of one per
    /// field.
    public mutating func append(_ value: some BinaryEncodable) {
        var counter = BinaryByteCount()
        value.encode(to: &counter)
        let start = bytes.count
        bytes.appendZeros(counter.count)
        bytes.withUnsafeMutableBytes { buffer in
            var cursor = BinaryCursor(buffer.baseAddress! + start)
            value.encode(to: &cursor)
            precondition(cursor.position == buffer.baseAddress! + buffer.count, "an encoding wrote other than the bytes it counted")
        }
    }
}

extension BinaryWriter: BinaryOutput {
    public mutating func raw(_ value: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: value)
    }
}
