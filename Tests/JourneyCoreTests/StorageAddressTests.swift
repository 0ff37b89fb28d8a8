import Testing

@testable import JourneyCore

/// The cache hints read storage addresses from values' raw words (`StorageAddress`). These
/// check every address they compute against the one Swift's own APIs report, so that a change
/// in Swift's layouts shows up here rather than as hints that silently load the wrong lines.
@Suite struct StorageAddressTests {
    /// The line a hint loads for a string starts at its storage object and covers its first bytes.
    private static func expectHintCovers(_ string: String, word: UInt, sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = string.utf8.withContiguousStorageIfAvailable { UInt(bitPattern: $0.baseAddress) }
        let object = StorageAddress.objectAddress(word: word)
        #expect(bytes != nil, sourceLocation: sourceLocation)
        #expect((0..<64).contains(Int(bitPattern: (bytes ?? 0) &- object)), "bytes at \(bytes ?? 0), hint at \(object)", sourceLocation: sourceLocation)
    }

    private static func elementsAddress<Element>(_ array: [Element]) -> UInt {
        array.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    }

    @Test func eventFieldAddressesAreWhereTheirStorageIs() {
        let event = NormalisedEvent(
            messageID: "message-id-long-enough-to-live-on-the-heap", source: "web", channel: "web", type: .track,
            name: "An event name longer than fifteen bytes", timestamp: TestEvents.time("2025-03-01T10:00:00Z"),
            receivedAt: TestEvents.time("2025-03-01T10:00:01Z"),
            identifiers: [TestEvents.email("someone.with.a.long.address@example.com"), TestEvents.user("user-0123456789-abcdef")],
            phase: nil, properties: Array(repeating: 7, count: 300)[100...], traits: [TraitValue(key: "plan", json: Array("\"pro\"".utf8))])
        withUnsafeBytes(of: event) { raw in
            func word(_ offset: Int) -> UInt { raw.load(fromByteOffset: offset, as: UInt.self) }
            Self.expectHintCovers(event.name!, word: word(EventStorageAddress.nameWord))
            let arrays = [
                (word(EventStorageAddress.keysWord), Self.elementsAddress(event.keys.bytes)),
                (word(EventStorageAddress.traitsWord), Self.elementsAddress(event.traits)),
            ]
            for (word, elements) in arrays {
                #expect(StorageAddress.objectAddress(word: word) + UInt(StorageAddress.arrayElementsOffset) == elements)
            }
            // A slice that starts past its buffer's first element.
            let properties = event.properties.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
            #expect(StorageAddress.sliceElementsAddress(words: raw.baseAddress! + EventStorageAddress.propertiesWords) == properties)
        }
    }

    private struct Entry: ProbeTableEntry, Equatable {
        var value: UInt64
        static let empty = Entry(value: 0)
        var isEmpty: Bool { value == 0 }
        var slotBits: UInt64 { value }
    }

    /// The slot a prefetch loads is the slot a lookup under the same hash starts at: in a table
    /// holding one entry per shard, it holds that entry.
    @Test func aProbeTableHintLoadsTheHomeSlot() {
        var table = ShardedProbeTable<Entry>()
        #expect(table.homeSlotAddress(hash: 1 << 56) == nil)
        let hashes = (0..<256).map { UInt64($0) << 56 | UInt64.random(in: 1..<(1 << 40)) }
        for hash in hashes { table.insert(Entry(value: hash), hash: hash) }
        for hash in hashes {
            let slot = table.homeSlotAddress(hash: hash)
            #expect(slot?.load(as: Entry.self) == Entry(value: hash))
        }
    }
}
