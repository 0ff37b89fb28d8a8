import CMemoryHints

/// Heap addresses read from the raw words of Swift values, for cache hints only.
///
/// A hint must not read the storage it is about to load, or it waits for that very load, and
/// Swift reads an array's or string's storage as soon as the value is copied (a copy retains
/// it) or its buffer is asked for (the count lives in the storage). So hints take the address
/// from the value's own words instead: an array is one word, the address of its storage object,
/// whose elements start `arrayElementsOffset` bytes in; a native string's second word is the
/// address of its storage object with flags in the top four bits; an array slice's second and
/// third words are its buffer's base address and its start index. `StorageAddressTests` check
/// all three against the addresses Swift's own APIs report. If Swift ever laid these out
/// differently, a hint would load the wrong line and change nothing else: a prefetch never
/// faults and never changes a result.
enum StorageAddress {
    /// Bytes from an array's storage object to its first element (the object's header).
    static let arrayElementsOffset: Int = {
        let probe = [0]
        return probe.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!) } - UnsafeRawPointer(bitPattern: arrayWord(of: probe))!
    }()

    /// The word of an array value: the address of its storage object.
    static func arrayWord<Element>(of array: borrowing [Element]) -> UInt {
        withUnsafeBytes(of: array) { $0.load(as: UInt.self) }
    }

    /// The object address in an array's word or a string's second word: the word without the
    /// string's flag bits. For a small string (no storage) it is no address at all, harmlessly.
    static func objectAddress(word: UInt) -> UInt {
        word & 0x0FFF_FFFF_FFFF_FFFF
    }

    /// The address of the first element of the byte slice whose words start at `words`.
    static func sliceElementsAddress(words: UnsafeRawPointer) -> UInt {
        words.load(fromByteOffset: MemoryLayout<UInt>.size, as: UInt.self)
            &+ words.load(fromByteOffset: 2 * MemoryLayout<UInt>.size, as: UInt.self)
    }

    /// Starts loading the first bytes of the byte slice whose words start at `words`, and the
    /// line after.
    static func prefetchSliceElements(words: UnsafeRawPointer) {
        guard let elements = UnsafeRawPointer(bitPattern: sliceElementsAddress(words: words)) else { return }
        journeyd_prefetch(elements)
        journeyd_prefetch(elements + 64)
    }

    /// Starts loading the object whose address `word` holds: its header and first bytes, and
    /// the line after.
    static func prefetchObject(word: UInt) {
        guard let object = UnsafeRawPointer(bitPattern: objectAddress(word: word)) else { return }
        for line in stride(from: 0, to: objectBytesPrefetched, by: 64) {
            journeyd_prefetch(object + line)
        }
    }

    /// How much of an object `prefetchObject(word:)` starts loading: two cache lines.
    static let objectBytesPrefetched = 128

    /// Starts loading the lines of the array whose word is `word`, holding `elementBytes` bytes
    /// of elements, past the two `prefetchObject(word:)` loads.
    static func prefetchArrayTail(word: UInt, elementBytes: Int) {
        guard let object = UnsafeRawPointer(bitPattern: objectAddress(word: word)) else { return }
        for line in stride(from: objectBytesPrefetched, to: arrayElementsOffset + elementBytes, by: 64) {
            journeyd_prefetch(object + line)
        }
    }
}
