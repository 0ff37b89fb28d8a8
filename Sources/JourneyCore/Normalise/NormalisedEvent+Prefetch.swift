/// Cache hints for the stitcher's first reads of a batch's events.
///
/// An event is built on an ingest task, usually on the other core, and the single writer then
/// reads its strings and arrays cold: each first read waits for a cache line to come over. The
/// stitcher starts loading them some events ahead, so that several loads are under way at once.
/// The addresses come from the raw words of the event in the batch (`StorageAddress`), so a hint
/// reads nothing it is about to load.
extension NormalisedEvent {
    /// Starts loading the heap storage the stitcher reads first of `events[index]`: the first
    /// lines of its keys, the properties, the traits and the name.
    static func prefetchStorage(of events: borrowing [NormalisedEvent], at index: Int) {
        events.withUnsafeBufferPointer { events in
            let event = UnsafeRawPointer(events.baseAddress! + index)
            for offset in EventStorageAddress.objectWordOffsets {
                StorageAddress.prefetchObject(word: event.load(fromByteOffset: offset, as: UInt.self))
            }
            StorageAddress.prefetchSliceElements(words: event + EventStorageAddress.propertiesWords)
        }
    }

    /// Starts loading the lines of `events[index]`'s keys past the two `prefetchStorage(of:at:)`
    /// loaded some events earlier (in most events, the rest of the identifiers). Those two hold
    /// the buffer's length, read here.
    static func prefetchKeysTail(of events: borrowing [NormalisedEvent], at index: Int) {
        events.withUnsafeBufferPointer { events in
            let event = UnsafeRawPointer(events.baseAddress! + index)
            StorageAddress.prefetchArrayTail(
                word: event.load(fromByteOffset: EventStorageAddress.keysWord, as: UInt.self), elementBytes: events[index].keys.byteCount)
        }
    }
}

/// Where the storage addresses of an event's fields sit in its raw words (`StorageAddress`).
enum EventStorageAddress {
    /// Offsets within a `NormalisedEvent` of the words holding the storage addresses of its
    /// keys, traits and name.
    static let keysWord = arrayWord(\NormalisedEvent.keys)
    static let traitsWord = arrayWord(\NormalisedEvent.traits)
    static let nameWord = stringWord(\NormalisedEvent.name)
    static let objectWordOffsets = [keysWord, traitsWord, nameWord]
    /// Offset of the properties slice's words (`StorageAddress.prefetchSliceElements`).
    static let propertiesWords = MemoryLayout<NormalisedEvent>.offset(of: \NormalisedEvent.properties)!

    private static func stringWord(_ field: PartialKeyPath<NormalisedEvent>) -> Int {
        MemoryLayout<NormalisedEvent>.offset(of: field)! + MemoryLayout<UInt>.size
    }

    private static func arrayWord(_ field: PartialKeyPath<NormalisedEvent>) -> Int {
        MemoryLayout<NormalisedEvent>.offset(of: field)!
    }
}
