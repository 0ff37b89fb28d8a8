/// A certificate subject (distinguished name) in RFC 4514 string form, most specific attribute
/// first, e.g. `CN=cc-exporter,O=Example`. Normalised so that a configured subject and the one a
/// client certificate presents compare equal whatever the spacing around `,` and `=` and the case
/// of attribute names; attribute values compare exactly. An immutable value.
public struct ClientSubject: Sendable, Hashable, CustomStringConvertible {
    public let description: String

    /// Nil when `text` is not a sequence of `name=value` attributes separated by commas.
    public init?(_ text: String) {
        var attributes: [String] = []
        for attribute in Self.splitUnescaped(text, on: ",") {
            guard let equals = attribute.firstIndex(of: "=") else { return nil }
            let name = attribute[..<equals].trimmingSpaces.uppercased()
            let value = attribute[attribute.index(after: equals)...].trimmingSpaces
            guard !name.isEmpty, !value.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." }) else { return nil }
            attributes.append(name + "=" + value)
        }
        guard !attributes.isEmpty else { return nil }
        description = attributes.joined(separator: ",")
    }

    /// Splits at separators not escaped with a backslash (RFC 4514 allows `\,` inside values).
    private static func splitUnescaped(_ text: String, on separator: Character) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var escaped = false
        for index in text.indices {
            let character = text[index]
            if escaped {
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == separator {
                parts.append(text[start..<index])
                start = text.index(after: index)
            }
        }
        parts.append(text[start...])
        return parts
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
