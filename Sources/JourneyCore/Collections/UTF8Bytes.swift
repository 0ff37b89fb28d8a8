/// Calls `body` with the UTF-8 bytes of `string` (without copying them for native strings).
func withUTF8Bytes<Result>(of string: String, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
    if let result = try string.utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
        return result
    }
    return try Array(string.utf8).withUnsafeBytes(body)
}

/// Orders message ids by their UTF-8 bytes.
func utf8Precedes(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
    for index in 0..<min(lhs.count, rhs.count) where lhs[index] != rhs[index] {
        return lhs[index] < rhs[index]
    }
    return lhs.count < rhs.count
}

/// Whether every byte is ASCII (below 0x80).
func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.allSatisfy { $0 < 0x80 }
}

/// Whether two byte strings are equal, compared eight bytes at a time (a generic
/// `elementsEqual` over raw buffers goes byte by byte).
func bytesEqual(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var offset = 0
    while offset + 8 <= lhs.count {
        if lhs.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != rhs.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
            return false
        }
        offset += 8
    }
    while offset < lhs.count {
        if lhs[offset] != rhs[offset] { return false }
        offset += 1
    }
    return true
}
