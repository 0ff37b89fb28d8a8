/// Cache hints for the stitcher's first reads of a batch's events.
///
/// An event is built on an ingest task, usually on the other core, and the single writer then
/// reads its strings and arrays cold: each first read waits for a cache line to come over. The
/// stitcher starts loading them some events ahead, so that several loads are under way at once.
/// The addresses come from the raw words of the event in the batch (`StorageAddress`), so a hint
/// reads nothing it is about to load.
extension NormalisedEvent {
    /// Starts loading the heap storage the stitcher reads first of `events[index]`: the message
    /// id's bytes, the identifier list, the properties, the traits and the name.
    static func prefetchStorage(of events: borrowing [NormalisedEvent], at index: Int) {
        events.withUnsafeBufferPointer { events in
            let event = UnsafeRawPointer(events.baseAddress! + index)
            for offset in EventStorageAddress.objectWordOffsets {
                StorageAddress.prefetchObject(word: event.load(fromByteOffset: offset, as: UInt.self))
            }
            StorageAddress.prefetchSliceElements(words: event + EventStorageAddress.propertiesWords)
        }
    }

    /// Starts loading each identifier's value of `events[index]`, whose identifier list should
    /// already be cached (`prefetchStorage(of:at:)` some events earlier).
    static func prefetchIdentifierValues(of events: borrowing [NormalisedEvent], at index: Int) {
        events.withUnsafeBufferPointer { events in
            events[index].identifiers.withUnsafeBufferPointer { identifiers in
                guard let first = identifiers.baseAddress else { return }
                for position in identifiers.indices {
                    let word = UnsafeRawPointer(first + position).load(fromByteOffset: EventStorageAddress.identifierValueWord, as: UInt.self)
                    StorageAddress.prefetchObject(word: word)
                }
            }
        }
    }
}

/// Where the storage addresses of an event's fields sit in its raw words (`StorageAddress`).
enum EventStorageAddress {
    /// Offsets within a `NormalisedEvent` of the words holding the storage addresses of its
    /// message id, identifier list, traits and name.
    static let messageIDWord = stringWord(\NormalisedEvent.messageID)
    static let identifiersWord = arrayWord(\NormalisedEvent.identifiers)
    static let traitsWord = arrayWord(\NormalisedEvent.traits)
    static let nameWord = stringWord(\NormalisedEvent.name)
    static let objectWordOffsets = [messageIDWord, identifiersWord, traitsWord, nameWord]
    /// Offset of the properties slice's words (`StorageAddress.prefetchSliceElements`).
    static let propertiesWords = MemoryLayout<NormalisedEvent>.offset(of: \NormalisedEvent.properties)!

    /// Offset within an `Identifier` of the word holding its value's storage address.
    static let identifierValueWord = MemoryLayout<Identifier>.offset(of: \Identifier.value)! + MemoryLayout<UInt>.size

    private static func stringWord(_ field: PartialKeyPath<NormalisedEvent>) -> Int {
        MemoryLayout<NormalisedEvent>.offset(of: field)! + MemoryLayout<UInt>.size
    }

    private static func arrayWord(_ field: PartialKeyPath<NormalisedEvent>) -> Int {
        MemoryLayout<NormalisedEvent>.offset(of: field)!
    }
}
