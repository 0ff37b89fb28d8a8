extension [UInt8] {
    /// Appends `count` zero bytes (room that a caller then writes in place), copied from a block
    /// of zeros: appending `repeatElement(0, count:)` goes through a loop of one byte at a time.
    mutating func appendZeros(_ count: Int) {
        var remaining = count
        while remaining > 0 {
            let length = Swift.min(remaining, zeroBlock.count)
            zeroBlock.withUnsafeBytes { append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[..<length])) }
            remaining -= length
        }
    }
}

private let zeroBlock = [UInt8](repeating: 0, count: 4096)
