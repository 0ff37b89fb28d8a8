import JourneyCore

/// `--lean`: a generated event cut down to the size of what bulk feeds send (call-centre
/// exports, point-of-sale systems, log shippers) — about 450 bytes instead of 990 — keeping every
/// identifier, time and name the daemon reads, so that stitching does the same work.
///
/// Drops `integrations`, `_metadata`, every member of `context` except `ip`, `locale`,
/// `timezone`, `traits` and `device.id`, the `url`, `referrer`, `search`, `title` and `image_url`
/// members of `properties`, and all but the first of its `products` list. Stateless; any task may
/// call it.
enum LeanEvent {
    private static let contextKept: Set<String> = ["ip", "locale", "timezone", "traits"]
    private static let propertiesDropped: Set<String> = ["url", "referrer", "search", "title", "image_url"]

    /// Appends the lean form of the one JSON object in `event` to `output`.
    static func append(_ event: [UInt8], to output: inout [UInt8]) throws {
        output += object(try JSONDocument(bytes: event).root) { name, value in
            switch name {
            case "integrations", "_metadata": nil
            case "context": object(value, keeping: contextMember)
            case "properties" where value.isObject: object(value, keeping: propertiesMember)
            default: Array(value.rawBytes)
            }
        }
    }

    private static func contextMember(_ name: String, _ value: JSONValue) -> [UInt8]? {
        if contextKept.contains(name) { return Array(value.rawBytes) }
        guard name == "device", let id = value["id"] else { return nil }
        return Array(#"{"id":"#.utf8) + id.rawBytes + [UInt8(ascii: "}")]
    }

    private static func propertiesMember(_ name: String, _ value: JSONValue) -> [UInt8]? {
        if propertiesDropped.contains(name) { return nil }
        guard name == "products", let firstProduct = value[index: 0] else { return Array(value.rawBytes) }
        return [UInt8(ascii: "[")] + firstProduct.rawBytes + [UInt8(ascii: "]")]
    }

    /// `object` as JSON text with the members `keeping` gives a value for (their keys as they were).
    private static func object(_ object: JSONValue, keeping: (String, JSONValue) -> [UInt8]?) -> [UInt8] {
        var text: [UInt8] = [UInt8(ascii: "{")]
        for (key, value) in object.members.views {
            guard let kept = keeping(String(decoding: key.rawStringContent, as: UTF8.self), value) else { continue }
            if text.count > 1 { text.append(UInt8(ascii: ",")) }
            text += key.rawBytes
            text.append(UInt8(ascii: ":"))
            text += kept
        }
        text.append(UInt8(ascii: "}"))
        return text
    }
}
