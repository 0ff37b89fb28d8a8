/// One rule mapping a touchpoint to a life-cycle phase. Every condition that is set must match;
/// conditions left nil (or empty) match anything. Event names compare exactly (case-sensitive, as
/// Segment's spec names them) unless the pattern has `*` or `?` (a glob).
public struct PhaseRule: Sendable, Equatable, CustomStringConvertible {
    public var phase: Phase
    public var type: EventType?
    public var event: EventNamePattern?
    public var channel: String?
    /// Conditions on the event's `properties` (identify and group calls: its `traits`).
    public var properties: [PropertyCondition]

    public init(phase: Phase, type: EventType? = nil, event: String? = nil, channel: String? = nil, properties: [PropertyCondition] = []) {
        self.phase = phase
        self.type = type
        self.event = event.map(EventNamePattern.init)
        self.channel = channel
        self.properties = properties
    }

    func matches(type: EventType, event: String?, channel: String, properties payload: JSONValue?) -> Bool {
        if let wanted = self.type, wanted != type { return false }
        if let pattern = self.event {
            guard let event, pattern.matches(event) else { return false }
        }
        if let wanted = self.channel, wanted != channel { return false }
        return properties.allSatisfy { $0.holds(in: payload) }
    }

    /// The rule as the config writes it: `{ phase: buy, event: "Order *", properties: { total: { gt: 0 } } }`.
    public var description: String {
        var parts = ["phase: \(phase.rawValue)"]
        if let type { parts.append("type: \(type.rawValue)") }
        if let event { parts.append("event: \"\(event.text)\"") }
        if let channel { parts.append("channel: \(channel)") }
        if !properties.isEmpty { parts.append("properties: { " + properties.map(\.description).joined(separator: ", ") + " }") }
        return "{ " + parts.joined(separator: ", ") + " }"
    }
}

/// An event name to match: the exact name, or a glob where `*` stands for any run of characters
/// and `?` for one character.
public struct EventNamePattern: Sendable, Equatable {
    public let text: String
    private let glob: [Unicode.Scalar]?

    public init(_ text: String) {
        self.text = text
        glob = text.contains(where: { $0 == "*" || $0 == "?" }) ? Array(text.unicodeScalars) : nil
    }

    public var isGlob: Bool { glob != nil }

    public func matches(_ name: String) -> Bool {
        guard let glob else { return name == text }
        return Self.globMatches(glob, Array(name.unicodeScalars))
    }

    /// Wildcard matching with one backtrack point (the last `*`): linear for the usual patterns.
    private static func globMatches(_ pattern: [Unicode.Scalar], _ name: [Unicode.Scalar]) -> Bool {
        var (p, n) = (0, 0)
        var star: (p: Int, n: Int)?
        while n < name.count {
            if p < pattern.count, pattern[p] == "*" {
                star = (p, n)
                p += 1
            } else if p < pattern.count, pattern[p] == "?" || pattern[p] == name[n] {
                p += 1
                n += 1
            } else if let last = star {
                p = last.p + 1
                n = last.n + 1
                star = (last.p, last.n + 1)
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}

/// A condition on one property of an event, named by a dotted path (`order.total`).
public struct PropertyCondition: Sendable, Equatable, CustomStringConvertible {
    public enum Test: Sendable, Equatable {
        /// Equal to this value: a string compares as text, a number numerically, `true`/`false`
        /// and `null` as themselves.
        case equals(String)
        case notEquals(String)
        case oneOf([String])
        /// Numeric comparisons; a property that is not a number fails them.
        case greaterThan(Double), atLeast(Double), lessThan(Double), atMost(Double)
        /// Present (and not null), or absent.
        case exists(Bool)
    }

    public var path: [String]
    public var test: Test

    public init(path: [String], test: Test) {
        self.path = path
        self.test = test
    }

    func holds(in payload: JSONValue?) -> Bool {
        let value = payload?[path: path].flatMap { $0.isNull ? nil : $0 }
        switch test {
        case .exists(let wanted): return (value != nil) == wanted
        case .equals(let text): return value.map { Self.equal($0, text) } ?? (text == "null")
        case .notEquals(let text): return !(value.map { Self.equal($0, text) } ?? (text == "null"))
        case .oneOf(let texts): return value.map { value in texts.contains { Self.equal(value, $0) } } ?? texts.contains("null")
        case .greaterThan(let bound): return value?.double.map { $0 > bound } ?? false
        case .atLeast(let bound): return value?.double.map { $0 >= bound } ?? false
        case .lessThan(let bound): return value?.double.map { $0 < bound } ?? false
        case .atMost(let bound): return value?.double.map { $0 <= bound } ?? false
        }
    }

    private static func equal(_ value: JSONValue, _ text: String) -> Bool {
        switch value.kind {
        case .string: return value.string == text
        case .number: return value.double == Double(text)
        case .bool: return value.bool.map { $0 ? text == "true" : text == "false" } ?? false
        default: return false
        }
    }

    public var description: String {
        let key = path.joined(separator: ".")
        switch test {
        case .equals(let text): return "\(key): \"\(text)\""
        case .notEquals(let text): return "\(key): { ne: \"\(text)\" }"
        case .oneOf(let texts): return "\(key): { in: [" + texts.map { "\"\($0)\"" }.joined(separator: ", ") + "] }"
        case .greaterThan(let bound): return "\(key): { gt: \(bound) }"
        case .atLeast(let bound): return "\(key): { gte: \(bound) }"
        case .lessThan(let bound): return "\(key): { lt: \(bound) }"
        case .atMost(let bound): return "\(key): { lte: \(bound) }"
        case .exists(let wanted): return "\(key): { exists: \(wanted) }"
        }
    }
}
