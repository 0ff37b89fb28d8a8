/// One value on the flat tape built by the parser (16 bytes, trivially copyable).
///
/// Layout of `meta`: bits 0-2 kind (`JSONTape.kindNull` …), bit 3 a per-kind flag
/// (string: contains escapes; number: integer literal, i.e. no `.`/exponent;
/// bool: value is `true`), bits 4-31 member/element count for containers.
/// `next` is the tape index just past this value's subtree (index + 1 for
/// scalars), which lets readers skip whole containers in O(1).
/// Objects are laid out as `object, key0, value0-subtree, key1, value1-subtree, …`.
@usableFromInline
struct JSONTapeEntry: Sendable {
    @usableFromInline var start: UInt32   // offset of the first byte of the value
    @usableFromInline var end: UInt32     // offset one past the last byte
    @usableFromInline var next: UInt32    // tape index after this subtree
    @usableFromInline var meta: UInt32

    @inlinable init(start: UInt32, end: UInt32, next: UInt32, meta: UInt32) {
        self.start = start
        self.end = end
        self.next = next
        self.meta = meta
    }

    @inlinable var kindBits: UInt32 { meta & 7 }
    @inlinable var flag: Bool { meta & JSONTape.flag != 0 }
    @inlinable var count: Int { Int(meta >> JSONTape.countShift) }
}

@usableFromInline
enum JSONTape {
    @usableFromInline static let kindNull: UInt32 = 0
    @usableFromInline static let kindBool: UInt32 = 1
    @usableFromInline static let kindNumber: UInt32 = 2
    @usableFromInline static let kindString: UInt32 = 3
    @usableFromInline static let kindArray: UInt32 = 4
    @usableFromInline static let kindObject: UInt32 = 5
    @usableFromInline static let flag: UInt32 = 8
    @usableFromInline static let countShift: UInt32 = 4
    @usableFromInline static let countUnit: UInt32 = 1 << 4
    /// Largest member/element count a container may have.
    @usableFromInline static let maxCount: UInt32 = (1 << 28) - 1
}

/// Immutable parsed document: the source bytes plus the tape. Shared by every
/// `JSONValue` taken from the document. Never mutated after init, hence Sendable.
@usableFromInline
final class JSONStorage: @unchecked Sendable {
    @usableFromInline let bytes: [UInt8]
    @usableFromInline let tape: UnsafeMutablePointer<JSONTapeEntry>
    @usableFromInline let tapeCount: Int

    init(bytes: [UInt8], tape: UnsafeMutablePointer<JSONTapeEntry>, tapeCount: Int) {
        self.bytes = bytes
        self.tape = tape
        self.tapeCount = tapeCount
    }

    deinit {
        tape.deallocate()
    }
}
