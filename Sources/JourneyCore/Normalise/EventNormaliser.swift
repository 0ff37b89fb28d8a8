/// Validates one Segment-shaped event and turns it into a `NormalisedEvent`.
///
/// Immutable and `Sendable`: ingest tasks share one and call it concurrently. It does no I/O.
/// Field rules follow DESIGN.md (Touchpoint normalisation, Precise rules); every refusal names
/// the field and what was wrong with it.
public struct EventNormaliser: Sendable {
    public struct Settings: Sendable {
        /// Largest accepted event, in bytes of its JSON text (after gunzip).
        public var maxEventBytes: Int
        public var identifiers: IdentifierNormaliser
        public var customIdentifiers: [CustomIdentifierPath]
        public var phaseRules: PhaseRules

        public init(
            maxEventBytes: Int = 32 * 1024, identifiers: IdentifierNormaliser = IdentifierNormaliser(),
            customIdentifiers: [CustomIdentifierPath] = [], phaseRules: PhaseRules = PhaseRules()
        ) {
            self.maxEventBytes = maxEventBytes
            self.identifiers = identifiers
            self.customIdentifiers = customIdentifiers
            self.phaseRules = phaseRules
        }
    }

    /// What the surrounding request contributes to each event in it.
    public struct Envelope: Sendable {
        public var source: SourceInfo
        public var receivedAt: Timestamp
        /// Batch-level `context`, consulted for any `context.*` field the event itself lacks.
        public var batchContext: JSONValue?
        /// Batch-level `sentAt`; an event's own `sentAt` wins.
        public var batchSentAt: Timestamp?
        /// The call type fixed by the endpoint (`/v1/track` …); nil for batch items, which carry `type`.
        public var impliedType: EventType?

        public init(
            source: SourceInfo, receivedAt: Timestamp, batchContext: JSONValue? = nil, batchSentAt: Timestamp? = nil,
            impliedType: EventType? = nil
        ) {
            self.source = source
            self.receivedAt = receivedAt
            self.batchContext = batchContext
            self.batchSentAt = batchSentAt
            self.impliedType = impliedType
        }
    }

    public let settings: Settings

    public init(settings: Settings) {
        self.settings = settings
    }

    public func normalise(_ item: JSONValue, envelope: Envelope) throws(EventRejection) -> NormalisedEvent {
        let size = item.rawBytes.count
        guard size <= settings.maxEventBytes else {
            throw EventRejection("event is \(size) bytes, over the limit of \(settings.maxEventBytes) bytes")
        }
        guard item.kind == .object else { throw EventRejection("event must be a JSON object") }
        let reader = EventFieldReader(item: item, batchContext: envelope.batchContext)

        let (type, name, payload) = try phaseInputs(reader, impliedType: envelope.impliedType)
        var keys = try keysBuilder(reader, item: item, source: envelope.source)

        if type == .group, try reader.identifierValue(.groupId) == nil {
            throw EventRejection("groupId: a group call needs a groupId")
        }

        let timestamp = try correctedTimestamp(reader, envelope: envelope)
        try collectIdentifiers(reader, type: type, into: &keys)
        var aliasPreviousID: String?
        if type == .alias {
            guard let previous = try reader.identifierValue(.previousId).map(EventFieldReader.identifierText) else {
                throw EventRejection("previousId: an alias call needs a previousId")
            }
            guard keys.contains(.userID) else {
                throw EventRejection("userId: an alias call needs a usable userId")
            }
            let trimmed = IdentifierNormaliser.trimmed(previous)
            if !settings.identifiers.isJunk(trimmed) { aliasPreviousID = trimmed }
        }
        guard keys.identifierCount > 0 else {
            throw EventRejection("no usable identifier: userId and anonymousId are missing or on the junk-value blocklist")
        }

        let properties = payload.map { Self.compactJSON($0.rawBytes) } ?? []
        return NormalisedEvent(
            keys: keys.finish(), source: envelope.source.name, channel: envelope.source.channel, type: type, name: name,
            timestamp: timestamp, receivedAt: envelope.receivedAt, aliasPreviousID: aliasPreviousID,
            phase: settings.phaseRules.phase(type: type, event: name, channel: envelope.source.channel, properties: payload),
            properties: properties, traits: try customerTraits(reader, type: type)
        )
    }

    /// What the phase rules look at in an event: its call type, its name (`event` of a track
    /// call, `name` of a page or screen call) and its `properties` (identify and group: `traits`).
    public func phaseInputs(_ item: JSONValue, impliedType: EventType? = nil) throws(EventRejection) -> (type: EventType, name: String?, properties: JSONValue?) {
        guard item.kind == .object else { throw EventRejection("event must be a JSON object") }
        return try phaseInputs(EventFieldReader(item: item, batchContext: nil), impliedType: impliedType)
    }

    private func phaseInputs(_ reader: EventFieldReader, impliedType: EventType?) throws(EventRejection) -> (type: EventType, name: String?, properties: JSONValue?) {
        let type = try eventType(reader, implied: impliedType)
        let name: String?
        switch type {
        case .track:
            guard let event = try reader.optionalString(.event), !event.isEmpty else {
                throw EventRejection("event: a track call needs a non-empty \"event\" name")
            }
            name = event
        case .page, .screen:
            name = try reader.optionalString(.name)
        case .identify, .group, .alias:
            name = nil
        }
        let payloadField: EventField = (type == .identify || type == .group) ? .traits : .properties
        return (type, name, try reader.optionalObject(payloadField))
    }

    private func eventType(_ reader: EventFieldReader, implied: EventType?) throws(EventRejection) -> EventType {
        if let implied { return implied }
        if let type = reader.field(.type)?.withUnescapedStringBytes(EventType.init(utf8:)) ?? nil { return type }
        guard let text = try reader.optionalString(.type) else {
            throw EventRejection("type: missing; expected one of track, identify, page, screen, group, alias")
        }
        guard let type = EventType(rawValue: text) else {
            throw EventRejection("type: \"\(text.prefix(40))\" is not one of track, identify, page, screen, group, alias")
        }
        return type
    }

    /// `receivedAt − (sentAt − timestamp)` when both client times are known (Segment's clock-skew correction).
    private func correctedTimestamp(_ reader: EventFieldReader, envelope: Envelope) throws(EventRejection) -> Timestamp {
        var original = try reader.optionalTimestamp(.originalTimestamp)
        if original == nil { original = try reader.optionalTimestamp(.timestamp) }
        var sentAt = try reader.optionalTimestamp(.sentAt)
        if sentAt == nil { sentAt = envelope.batchSentAt }
        guard let original else { return envelope.receivedAt }
        guard let sentAt else { return original }
        let corrected = envelope.receivedAt + (original.millisecondsSinceEpoch - sentAt.millisecondsSinceEpoch)
        guard corrected.isRepresentable else {
            throw EventRejection("timestamp: corrected for the sender's clock (sentAt) it falls outside years 0000–9999")
        }
        return corrected
    }

    /// The event's keys, begun with its message id: the one it gives, read in place when it has
    /// no escapes and starts with a visible character (the usual case), else as a `String`; or
    /// one derived from its bytes. A blank messageId is no id at all: taken as given, it would
    /// make every later event of the source a duplicate.
    private func keysBuilder(_ reader: EventFieldReader, item: JSONValue, source: SourceInfo) throws(EventRejection) -> EventKeys.Builder {
        let inPlace = reader.field(.messageId)?.withUnescapedStringBytes { bytes -> EventKeys.Builder? in
            guard let first = bytes.first, IdentifierNormaliser.isVisibleASCII(first), bytes.count <= Self.maxMessageIDBytes else { return nil }
            return EventKeys.Builder(messageID: UnsafeRawBufferPointer(bytes))
        }
        if let inPlace = inPlace ?? nil { return inPlace }
        let given = try reader.optionalString(.messageId).flatMap { IdentifierNormaliser.trimmed($0).isEmpty ? nil : $0 }
        let messageID = given ?? derivedMessageID(item, source: source)
        guard messageID.utf8.count <= Self.maxMessageIDBytes else { throw EventRejection("messageId is longer than \(Self.maxMessageIDBytes) bytes") }
        return EventKeys.Builder(messageID: messageID)
    }

    /// The longest accepted messageId, in UTF-8 bytes.
    static let maxMessageIDBytes = 256

    /// Adds the event's identifiers to `keys`, each normalised and once, at its first place.
    private func collectIdentifiers(_ reader: EventFieldReader, type: EventType, into keys: inout EventKeys.Builder) throws(EventRejection) {
        func add(_ value: JSONValue?, _ identifierType: IdentifierType) {
            guard let value else { return }
            let readInPlace: Void? = value.withUnescapedStringBytes {
                settings.identifiers.normalise(UnsafeRawBufferPointer($0), as: identifierType, into: &keys)
            }
            if readInPlace != nil { return }
            withUTF8Bytes(of: EventFieldReader.identifierText(value)) { settings.identifiers.normalise($0, as: identifierType, into: &keys) }
        }
        add(try reader.identifierValue(.userId), .userID)
        add(try reader.identifierValue(.anonymousId), .anonymousID)
        add(reader.lenientIdentifierValue(reader.contextValue(FieldPaths.deviceID)), .deviceID)
        if type == .identify {
            // The event's own traits, found already (its field directory).
            let traits = reader.field(.traits)
            add(reader.lenientIdentifierValue(traits?["email"]), .email)
            add(reader.lenientIdentifierValue(traits?["phone"]), .phone)
        }
        add(reader.lenientIdentifierValue(reader.contextValue(FieldPaths.traitsEmail)), .email)
        add(reader.lenientIdentifierValue(reader.contextValue(FieldPaths.traitsPhone)), .phone)
        for custom in settings.customIdentifiers {
            for path in custom.paths {
                add(reader.lenientIdentifierValue(reader.value(at: path)), custom.type)
            }
        }
        if let externalIDs = reader.contextValue(FieldPaths.externalIDs), externalIDs.kind == .array {
            for entry in externalIDs.elements {
                guard let typeName = entry["type"]?.string,
                    let known = knownType(named: typeName.lowercased())
                else { continue }
                add(reader.lenientIdentifierValue(entry["id"]), known)
            }
        }
    }

    private func knownType(named name: String) -> IdentifierType? {
        let type = IdentifierType(rawValue: name)
        if IdentifierType.builtIn.contains(type) { return type }
        return settings.customIdentifiers.contains(where: { $0.type == type }) ? type : nil
    }

    private func customerTraits(_ reader: EventFieldReader, type: EventType) throws(EventRejection) -> [TraitValue] {
        var traits: [TraitValue] = []
        if let contextTraits = reader.contextValue(FieldPaths.traits), contextTraits.kind == .object {
            for member in contextTraits.members {
                traits.append(TraitValue(key: member.key, json: Array(Self.compactJSON(member.value.rawBytes))))
            }
        }
        if type == .identify, let own = try reader.optionalObject(.traits) {
            for member in own.members {
                traits.append(TraitValue(key: member.key, json: Array(Self.compactJSON(member.value.rawBytes))))
            }
        }
        return traits
    }

    /// Validated JSON text without line breaks, so stored properties and traits never carry raw
    /// newlines into JSON-lines output (senders may pretty-print). A valid JSON string cannot hold a
    /// raw CR or LF, so every such byte is insignificant whitespace and can simply be dropped.
    /// Text without line breaks (the usual case) is returned as the slice it is, not copied.
    static func compactJSON(_ json: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard json.withUnsafeBufferPointer(containsLineBreak) else { return json }
        return ArraySlice(json.filter { $0 != 0x0A && $0 != 0x0D })
    }

    /// Whether `bytes` hold a LF or CR, eight bytes at a time: a word has a byte equal to `b`
    /// when `word ^ (b × 0x01…01)` has a zero byte, which `(v − 0x01…01) & ~v & 0x80…80` detects.
    static func containsLineBreak(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let ones: UInt64 = 0x0101_0101_0101_0101
        func hasZeroByte(_ value: UInt64) -> Bool { (value &- ones) & ~value & (ones &* 0x80) != 0 }
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self))
            if hasZeroByte(word ^ (ones &* 0x0A)) || hasZeroByte(word ^ (ones &* 0x0D)) { return true }
            offset += 8
        }
        return bytes[offset...].contains { $0 == 0x0A || $0 == 0x0D }
    }

    /// A message id for events sent without one: a hash of the source and the exact event bytes,
    /// so that a resent identical event is still recognised as a duplicate.
    private func derivedMessageID(_ item: JSONValue, source: SourceInfo) -> String {
        var hash = StableHash()
        hash.combine(source.name.utf8)
        hash.combineSeparator()
        hash.combine(item.rawBytes)
        return "auto-" + hash.hex
    }
}

/// A member of an event's `context`, or a member of that member: `context.device.id` is
/// (`.device`, `"id"`). Its path is kept for the batch context, read by path.
struct ContextPath {
    let field: ContextField
    let key: String?
    let path: [String]

    init(_ field: ContextField, _ key: String? = nil) {
        self.field = field
        self.key = key
        path = [field.key] + (key.map { [$0] } ?? [])
    }
}

/// Context paths read from every event, made once.
enum FieldPaths {
    static let deviceID = ContextPath(.device, "id")
    static let traits = ContextPath(.traits)
    static let traitsEmail = ContextPath(.traits, "email")
    static let traitsPhone = ContextPath(.traits, "phone")
    static let externalIDs = ContextPath(.externalIds)
}

/// Typed access to an event's fields, with batch-context fallback for `context.*`.
struct EventFieldReader {
    let item: JSONValue
    /// Where the top-level fields are; nil when they are read by name (a member name with escapes).
    private let directory: FieldDirectory<EventField>?
    /// The event's own `context` object, looked up once, and where its members of interest are.
    let context: JSONValue?
    private let contextDirectory: FieldDirectory<ContextField>?
    let batchContext: JSONValue?

    init(item: JSONValue, batchContext: JSONValue?) {
        self.item = item
        let directory = FieldDirectory<EventField>(item)
        self.directory = directory
        let context = Self.member(EventField.context, of: item, directory)
        self.context = context
        contextDirectory = context.flatMap { FieldDirectory<ContextField>($0) }
        self.batchContext = batchContext
    }

    private static func member<Field: DirectoryField>(_ field: Field, of object: JSONValue, _ directory: FieldDirectory<Field>?) -> JSONValue? {
        guard let directory else { return object[field.key] }
        return directory.position(of: field).map { JSONValue(storage: object.storage, index: $0) }
    }

    /// A field's value, treating JSON `null` as absent.
    func field(_ field: EventField) -> JSONValue? {
        guard let value = Self.member(field, of: item, directory), !value.isNull else { return nil }
        return value
    }

    /// The value at `path` in the event's own context, unless absent or null; else in the batch
    /// context.
    func contextValue(_ path: ContextPath) -> JSONValue? {
        if let context, let member = Self.member(path.field, of: context, contextDirectory) {
            let own = path.key.map { member[$0] } ?? member
            if let own, !own.isNull { return own }
        }
        return batchContextValue(path.path)
    }

    /// `contextValue(_:)` for any path below `context` (custom identifier paths).
    func contextValue(path: [String]) -> JSONValue? {
        if let own = context?[path: path], !own.isNull { return own }
        return batchContextValue(path)
    }

    /// The value at `path` in the batch context, unless absent or null.
    private func batchContextValue(_ path: [String]) -> JSONValue? {
        guard let shared = batchContext?[path: path], !shared.isNull else { return nil }
        return shared
    }

    /// A value at a dotted path from the event root; `context.*` paths fall back to the batch context.
    func value(at path: [String]) -> JSONValue? {
        if path.first == "context" { return contextValue(path: Array(path.dropFirst())) }
        guard let value = item[path: path], !value.isNull else { return nil }
        return value
    }

    func optionalString(_ field: EventField) throws(EventRejection) -> String? {
        guard let value = self.field(field) else { return nil }
        guard let text = value.string else { throw EventRejection("\(field.key): expected a string") }
        return text
    }

    /// An id field's value: ids may be strings or integers (some SDKs send numeric user ids).
    func identifierValue(_ field: EventField) throws(EventRejection) -> JSONValue? {
        guard let value = self.field(field) else { return nil }
        guard Self.isIdentifierValue(value) else { throw EventRejection("\(field.key): expected a string or an integer") }
        return value
    }

    /// The text of a string or integer value; integers keep their JSON text.
    static func identifierText(_ value: JSONValue) -> String {
        value.string ?? String(decoding: value.rawBytes, as: UTF8.self)
    }

    private static func isIdentifierValue(_ value: JSONValue) -> Bool {
        value.kind == .string || (value.kind == .number && value.int64 != nil)
    }

    func optionalObject(_ field: EventField) throws(EventRejection) -> JSONValue? {
        guard let value = self.field(field) else { return nil }
        guard value.kind == .object else { throw EventRejection("\(field.key): expected an object") }
        return value
    }

    func optionalTimestamp(_ field: EventField) throws(EventRejection) -> Timestamp? {
        guard let value = self.field(field) else { return nil }
        // Read in place: no `String` is made for a well-formed date-time, the common case.
        if let timestamp = value.withUnescapedStringBytes(Timestamp.parse) ?? nil { return timestamp }
        guard let text = value.string else { throw EventRejection("\(field.key): expected a string") }
        guard let timestamp = Timestamp(rfc3339: text) else {
            throw EventRejection("\(field.key): \"\(text.prefix(40))\" is not an ISO 8601 / RFC 3339 date-time")
        }
        return timestamp
    }

    /// Identifier values found inside free-form objects (traits, context): strings and integers
    /// count, anything else is ignored rather than refused, since the sender did not mean it as an id.
    func lenientIdentifierValue(_ value: JSONValue?) -> JSONValue? {
        guard let value, Self.isIdentifierValue(value) else { return nil }
        return value
    }
}
