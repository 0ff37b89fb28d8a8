/// The top-level fields of an event that normalisation reads (`EventFieldDirectory` keeps one
/// slot per case: 14).
enum EventField: Int, CaseIterable {
    case type, event, name, messageId, userId, anonymousId, groupId, previousId
    case timestamp, originalTimestamp, sentAt, properties, traits, context

    /// The member name, as written in events and in refusals.
    var key: String { String(describing: self) }

    /// The field a member name (written without escapes) names: matched by length, then by
    /// bytes, with no string made (a test checks that every case is found by its `key`).
    init?(name bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return nil }
        func named(_ name: StaticString) -> Bool { JSONStringDecoding.equalBytes(name.utf8Start, base, bytes.count) }
        let field: EventField?
        switch bytes.count {
        case 4: field = named("type") ? .type : named("name") ? .name : nil
        case 5: field = named("event") ? .event : nil
        case 6: field = named("userId") ? .userId : named("sentAt") ? .sentAt : named("traits") ? .traits : nil
        case 7: field = named("groupId") ? .groupId : named("context") ? .context : nil
        case 9: field = named("messageId") ? .messageId : named("timestamp") ? .timestamp : nil
        case 10: field = named("previousId") ? .previousId : named("properties") ? .properties : nil
        case 11: field = named("anonymousId") ? .anonymousId : nil
        case 17: field = named("originalTimestamp") ? .originalTimestamp : nil
        default: field = nil
        }
        guard let field else { return nil }
        self = field
    }
}

/// Where an event's top-level fields are, found in one pass over its members: reading a field
/// through `JSONValue[key]` scans every member, and normalisation reads about a dozen fields per
/// event. A repeated member keeps its last value, as `JSONValue[key]` does. Made per event; it
/// holds tape positions inline, so it allocates nothing.
struct EventFieldDirectory {
    private var positions = InlineArray<14, Int32>(repeating: -1)

    /// Nil when a member name is written with escapes (the caller then reads fields by name,
    /// which decodes them), or when `object` is not an object.
    init?(_ object: JSONValue) {
        guard object.kind == .object else { return nil }
        var positions = self.positions
        var escapedKey = false
        object.forEachMember { key, escaped, valueIndex in
            if escaped {
                escapedKey = true
            } else if let field = EventField(name: key) {
                positions[field.rawValue] = Int32(valueIndex)
            }
        }
        if escapedKey { return nil }
        self.positions = positions
    }

    /// The tape position of `field`'s value; nil when the event has no such member.
    func position(of field: EventField) -> Int? {
        let position = positions[field.rawValue]
        return position < 0 ? nil : Int(position)
    }
}
