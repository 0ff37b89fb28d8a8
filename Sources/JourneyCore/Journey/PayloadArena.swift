/// Where one touchpoint's payload starts in a `PayloadArena`.
struct PayloadLocation: Hashable {
    var block: UInt32
    var offset: UInt32
}

/// An append-only byte store for the variable-length part of every touchpoint (its message id,
/// identifier edges and properties JSON), so that a touchpoint itself is a plain value with no
/// references: copying, sorting and merging journeys moves bytes instead of retaining strings
/// and arrays.
///
/// Bytes live in blocks of 1 MiB (a payload larger than that gets a block of its own), so after a
/// snapshot copies the arena (copy-on-write), the next append copies one block, never the whole
/// store. A value type; one owner mutates it. Space of dropped touchpoints is not reused; the
/// arena is rebuilt compactly when a checkpoint is loaded.
struct PayloadArena {
    static let blockSize = 1 << 20

    private var blocks: [[UInt8]] = []
    /// Bytes held, over all blocks.
    private(set) var byteCount = 0

    /// Reserves `count` bytes that fit in one block, lets `fill` write them, and returns where
    /// they start. When the last block is full, the next one comes from `newBlock` (an empty
    /// array; it gets room for a block if it has less), so a loader can hand in blocks whose
    /// memory another thread has already mapped.
    mutating func append(
        count: Int, newBlock: () -> [UInt8] = { [] }, _ fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> PayloadLocation {
        if blocks.isEmpty || blocks[blocks.count - 1].count + count > Self.blockSize {
            var block = newBlock()
            precondition(block.isEmpty, "a new payload block must be empty")
            block.reserveCapacity(max(Self.blockSize, count))
            blocks.append(block)
        }
        let index = blocks.count - 1
        let offset = blocks[index].count
        blocks[index].appendZeros(count)
        blocks[index].withUnsafeMutableBytes { block in
            fill(UnsafeMutableRawBufferPointer(rebasing: block[offset..<(offset + count)]))
        }
        byteCount += count
        return PayloadLocation(block: UInt32(index), offset: UInt32(offset))
    }

    /// Overwrites `count` bytes from `location` with zeros (an erased touchpoint's payload). The
    /// space is not reused.
    mutating func overwrite(at location: PayloadLocation, count: Int) {
        let start = Int(location.offset)
        blocks[Int(location.block)].withUnsafeMutableBytes { block in
            _ = UnsafeMutableRawBufferPointer(rebasing: block[start..<(start + count)]).initializeMemory(as: UInt8.self, repeating: 0)
        }
    }

    /// The bytes from `location` to the end of its block, for a reader that knows the length.
    func withBytes<Result>(at location: PayloadLocation, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try blocks[Int(location.block)].withUnsafeBytes { block in
            try body(UnsafeRawBufferPointer(rebasing: block[Int(location.offset)...]))
        }
    }
}
