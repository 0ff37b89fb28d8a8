/// One accepted event after validation and normalisation, ready for the stitcher.
///
/// A `Sendable` value: built on an ingest task, handed to the single writer that owns the
/// identity graph and journey store.
public struct NormalisedEvent: Sendable, Equatable {
    /// The message id and the identifiers — normalised, junk removed, without duplicates — packed
    /// into one buffer (`EventKeys`).
    public let keys: EventKeys
    public let source: String
    public let channel: String
    public let type: EventType
    /// `event` for track calls, `name` for page and screen calls.
    public let name: String?
    /// Event time corrected for client clock skew, fixed when the event is first received.
    public let timestamp: Timestamp
    public let receivedAt: Timestamp
    /// For alias calls: the normalised `previousId`; whether it is a user id or an anonymous id is
    /// decided by the stitcher from what it already knows.
    public let aliasPreviousID: String?
    public let phase: Phase?
    /// The event's `properties` (identify and group: its `traits`) as raw JSON object bytes, or
    /// empty. When they needed no compacting, a slice of the bytes the event was parsed from
    /// (its request body or stream chunk), which the event keeps alive: no copy per event.
    public let properties: ArraySlice<UInt8>
    /// Customer traits the event sets (identify `traits` and any call's `context.traits`), each a key and a raw JSON value.
    public let traits: [TraitValue]

    /// The fields are constants: with `var` fields, this initializer built the event twice,
    /// returned a copy of one and destroyed the other, retaining and releasing each of its
    /// strings and arrays for every event (Swift 6.3's optimizer, seen in the disassembly).
    public init(
        keys: EventKeys, source: String, channel: String, type: EventType, name: String?,
        timestamp: Timestamp, receivedAt: Timestamp, aliasPreviousID: String? = nil,
        phase: Phase?, properties: ArraySlice<UInt8> = [], traits: [TraitValue] = []
    ) {
        self.keys = keys
        self.source = source
        self.channel = channel
        self.type = type
        self.name = name
        self.timestamp = timestamp
        self.receivedAt = receivedAt
        self.aliasPreviousID = aliasPreviousID
        self.phase = phase
        self.properties = properties
        self.traits = traits
    }

    public init(
        messageID: String, source: String, channel: String, type: EventType, name: String?,
        timestamp: Timestamp, receivedAt: Timestamp, identifiers: [Identifier], aliasPreviousID: String? = nil,
        phase: Phase?, properties: ArraySlice<UInt8> = [], traits: [TraitValue] = []
    ) {
        self.init(
            keys: EventKeys(messageID: messageID, identifiers: identifiers), source: source, channel: channel, type: type,
            name: name, timestamp: timestamp, receivedAt: receivedAt, aliasPreviousID: aliasPreviousID, phase: phase,
            properties: properties, traits: traits)
    }

    public var messageID: String { keys.messageID }

    /// The identifiers as values (`keys.withIdentifiers` reads them without making `String`s).
    public var identifiers: [Identifier] { keys.identifiers }
}

/// One customer trait: its key and its value as raw JSON bytes.
public struct TraitValue: Sendable, Equatable {
    public var key: String
    public var json: [UInt8]

    public init(key: String, json: [UInt8]) {
        self.key = key
        self.json = json
    }
}

/// Why an event was not accepted. The message names the field and the problem so the sender can fix it.
public struct EventRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
