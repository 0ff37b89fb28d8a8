/// A set of member names a `FieldDirectory` looks for: at most 16, each with its own slot.
protocol DirectoryField: CaseIterable {
    /// The member name.
    var key: String { get }
    /// The field's slot in a directory, 0..<16.
    var slot: Int { get }
    /// The field a member name (written without escapes) names, if any.
    static func field(named bytes: UnsafeBufferPointer<UInt8>) -> Self?
}

/// Where an object's members of interest are, found in one pass over its members: reading a
/// member through `JSONValue[key]` scans every member, and normalisation reads about a dozen
/// fields of each event and a few of its `context`. A repeated member keeps its last value, as
/// `JSONValue[key]` does. Made per object; it holds tape positions inline, so it allocates nothing.
struct FieldDirectory<Field: DirectoryField> {
    private var positions = InlineArray<16, Int32>(repeating: -1)

    /// Nil when a member name is written with escapes (the caller then reads members by name,
    /// which decodes them), or when `object` is not an object.
    init?(_ object: JSONValue) {
        guard object.kind == .object else { return nil }
        var positions = self.positions
        var escapedKey = false
        object.forEachMember { key, escaped, valueIndex in
            if escaped {
                escapedKey = true
            } else if let field = Field.field(named: key) {
                positions[field.slot] = Int32(valueIndex)
            }
        }
        if escapedKey { return nil }
        self.positions = positions
    }

    /// The tape position of `field`'s value; nil when the object has no such member.
    func position(of field: Field) -> Int? {
        let position = positions[field.slot]
        return position < 0 ? nil : Int(position)
    }
}

/// Matches a member name against one candidate of its length, by bytes, with no string made.
@inline(__always)
private func named(_ name: StaticString, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    JSONStringDecoding.equalBytes(name.utf8Start, bytes.baseAddress!, bytes.count)
}

/// The top-level fields of an event that normalisation reads.
enum EventField: Int, DirectoryField {
    case type, event, name, messageId, userId, anonymousId, groupId, previousId
    case timestamp, originalTimestamp, sentAt, properties, traits, context

    /// The member name, as written in events and in refusals.
    var key: String { String(describing: self) }

    var slot: Int { rawValue }

    /// Matched by length, then by bytes (a test checks that every case is found by its `key`).
    static func field(named bytes: UnsafeBufferPointer<UInt8>) -> EventField? {
        guard bytes.baseAddress != nil else { return nil }
        return switch bytes.count {
        case 4: named("type", bytes) ? .type : named("name", bytes) ? .name : nil
        case 5: named("event", bytes) ? .event : nil
        case 6: named("userId", bytes) ? .userId : named("sentAt", bytes) ? .sentAt : named("traits", bytes) ? .traits : nil
        case 7: named("groupId", bytes) ? .groupId : named("context", bytes) ? .context : nil
        case 9: named("messageId", bytes) ? .messageId : named("timestamp", bytes) ? .timestamp : nil
        case 10: named("previousId", bytes) ? .previousId : named("properties", bytes) ? .properties : nil
        case 11: named("anonymousId", bytes) ? .anonymousId : nil
        case 17: named("originalTimestamp", bytes) ? .originalTimestamp : nil
        default: nil
        }
    }
}

/// The members of an event's `context` that normalisation reads: `device` (its `id`), `traits`
/// (customer traits, `email`, `phone`) and `externalIds`.
enum ContextField: Int, DirectoryField {
    case device, traits, externalIds

    /// The member name, as written in events.
    var key: String { String(describing: self) }

    var slot: Int { rawValue }

    /// Matched by length, then by bytes (a test checks that every case is found by its `key`).
    static func field(named bytes: UnsafeBufferPointer<UInt8>) -> ContextField? {
        guard bytes.baseAddress != nil else { return nil }
        return switch bytes.count {
        case 6: named("device", bytes) ? .device : named("traits", bytes) ? .traits : nil
        case 11: named("externalIds", bytes) ? .externalIds : nil
        default: nil
        }
    }
}
