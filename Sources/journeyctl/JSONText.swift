import Foundation

/// One JSON object as text for `--json` output: keys sorted, slashes unescaped, nil values
/// written as null so that scripts can rely on the set of keys.
enum JSONText {
    static func object(_ members: [String: Any?]) -> String {
        let object = members.mapValues { $0.map(normalise) ?? NSNull() }
        // Only strings, integers, finite doubles, NSNull and dictionaries of them: this cannot fail.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private static func normalise(_ value: Any) -> Any {
        if let nested = value as? [String: Any?] { return nested.mapValues { $0.map(normalise) ?? NSNull() } }
        return value
    }
}
