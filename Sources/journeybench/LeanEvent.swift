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
        let root = try JSONDocument(bytes: event).root
        output.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in root.members.views {
            let name = String(decoding: key.rawStringContent, as: UTF8.self)
            switch name {
            case "integrations", "_metadata":
                continue
            case "context":
                member(key, &first, &output)
                object(value, into: &output) { name, value, output in
                    if contextKept.contains(name) {
                        output.append(contentsOf: value.rawBytes)
                    } else if name == "device", let id = value["id"] {
                        output.append(contentsOf: Array(#"{"id":"#.utf8) + id.rawBytes + [UInt8(ascii: "}")])
                    } else {
                        return false
                    }
                    return true
                }
            case "properties" where value.isObject:
                member(key, &first, &output)
                object(value, into: &output) { name, value, output in
                    if propertiesDropped.contains(name) { return false }
                    if name == "products", value.isArray, let firstProduct = value[index: 0] {
                        output.append(UInt8(ascii: "["))
                        output.append(contentsOf: firstProduct.rawBytes)
                        output.append(UInt8(ascii: "]"))
                    } else {
                        output.append(contentsOf: value.rawBytes)
                    }
                    return true
                }
            default:
                member(key, &first, &output)
                output.append(contentsOf: value.rawBytes)
            }
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Writes `"key":` (after a comma unless it is the first member).
    private static func member(_ key: JSONValue, _ first: inout Bool, _ output: inout [UInt8]) {
        if !first { output.append(UInt8(ascii: ",")) }
        first = false
        output.append(contentsOf: key.rawBytes)
        output.append(UInt8(ascii: ":"))
    }

    /// Writes `object` keeping the members for which `write` wrote a value (and returned true).
    private static func object(
        _ object: JSONValue, into output: inout [UInt8], write: (String, JSONValue, inout [UInt8]) -> Bool
    ) {
        output.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in object.members.views {
            let (mark, wasFirst) = (output.count, first)
            member(key, &first, &output)
            if !write(String(decoding: key.rawStringContent, as: UTF8.self), value, &output) {
                output.removeSubrange(mark...)
                first = wasFirst
            }
        }
        output.append(UInt8(ascii: "}"))
    }
}
