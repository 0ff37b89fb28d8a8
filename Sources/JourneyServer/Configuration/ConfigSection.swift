/// Reads one mapping of the config file, key by key, and refuses keys nobody read.
/// Each accessor names the full key path in its errors.
struct ConfigSection {
    let path: String
    private let pairs: [(key: String, value: ConfigTree)]
    private var read: Set<String> = []

    init(_ tree: ConfigTree, path: String) throws(ConfigurationError) {
        self.path = path
        switch tree {
        case .null: pairs = []
        case .mapping(let mapping): pairs = mapping
        default: throw .invalidValue(key: path.isEmpty ? "(top level)" : path, message: "expected a mapping of keys to values")
        }
    }

    /// The keys of this mapping, in file order.
    var keys: [String] { pairs.map(\.key) }

    func keyPath(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    private mutating func value(_ key: String) -> ConfigTree? {
        read.insert(key)
        guard let value = pairs.first(where: { $0.key == key })?.value, value != .null else { return nil }
        return value
    }

    mutating func has(_ key: String) -> Bool {
        pairs.contains(where: { $0.key == key && $0.value != .null })
    }

    mutating func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .scalar(let text) = value else {
            throw .invalidValue(key: keyPath(key), message: "expected a single value, not a list or mapping")
        }
        return text
    }

    mutating func requiredString(_ key: String) throws(ConfigurationError) -> String {
        guard let text = try string(key) else { throw .missingKey(keyPath(key)) }
        return text
    }

    mutating func int(_ key: String, range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let text = try string(key) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw .invalidValue(key: keyPath(key), message: "expected a whole number from \(range.lowerBound) to \(range.upperBound), got \"\(text)\"")
        }
        return number
    }

    mutating func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let text = try string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw .invalidValue(key: keyPath(key), message: "expected true or false, got \"\(text)\"")
        }
    }

    mutating func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, _: Choice.Type) throws(ConfigurationError) -> Choice?
    where Choice.RawValue == String {
        guard let text = try string(key) else { return nil }
        guard let choice = Choice(rawValue: text) else {
            let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidValue(key: keyPath(key), message: "expected one of \(allowed), got \"\(text)\"")
        }
        return choice
    }

    /// A duration such as `500ms`, `60s`, `5m`, `2h`, `7d`; a bare number means seconds.
    mutating func duration(_ key: String) throws(ConfigurationError) -> Duration? {
        guard let text = try string(key) else { return nil }
        guard let duration = ConfigUnits.duration(text) else {
            throw .invalidValue(key: keyPath(key), message: "expected a duration such as 500ms, 60s, 5m, 2h or 7d, got \"\(text)\"")
        }
        return duration
    }

    /// A size in bytes: a bare number, or with a unit `KB`/`MB` (1000) or `KiB`/`MiB` (1024).
    mutating func byteSize(_ key: String, range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let text = try string(key) else { return nil }
        guard let bytes = ConfigUnits.byteSize(text), range.contains(bytes) else {
            throw .invalidValue(
                key: keyPath(key),
                message: "expected a size from \(range.lowerBound) to \(range.upperBound) bytes (e.g. 32768, 32KiB, 500KB), got \"\(text)\"")
        }
        return bytes
    }

    mutating func section(_ key: String) throws(ConfigurationError) -> ConfigSection {
        try ConfigSection(value(key) ?? .null, path: keyPath(key))
    }

    /// The items of a list, each with its key path (`sources[0]`).
    mutating func list(_ key: String) throws(ConfigurationError) -> [(tree: ConfigTree, path: String)]? {
        guard let value = value(key) else { return nil }
        guard case .sequence(let items) = value else {
            throw .invalidValue(key: keyPath(key), message: "expected a list")
        }
        return items.enumerated().map { ($1, "\(keyPath(key))[\($0)]") }
    }

    mutating func stringList(_ key: String) throws(ConfigurationError) -> [String]? {
        guard let items = try list(key) else { return nil }
        var strings: [String] = []
        for item in items {
            guard case .scalar(let text) = item.tree else {
                throw .invalidValue(key: item.path, message: "expected a single value")
            }
            strings.append(text)
        }
        return strings
    }

    /// Every key of this mapping with its value, marking them all read.
    mutating func entries() -> [(key: String, value: ConfigTree)] {
        for pair in pairs { read.insert(pair.key) }
        return pairs
    }

    /// Fails on the first key that no accessor asked for (a typo or a key from another version).
    func finish() throws(ConfigurationError) {
        if let unknown = pairs.first(where: { !read.contains($0.key) }) {
            throw .unknownKey(keyPath(unknown.key), allowed: read.sorted())
        }
    }
}

/// Parsing of durations and sizes written with units.
enum ConfigUnits {
    static func duration(_ text: String) -> Duration? {
        let units: [(suffix: String, milliseconds: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        if let seconds = Int64(text), seconds >= 0 { return .seconds(seconds) }
        for unit in units where text.hasSuffix(unit.suffix) {
            guard let amount = Int64(text.dropLast(unit.suffix.count)), amount >= 0 else { continue }
            let (milliseconds, overflow) = amount.multipliedReportingOverflow(by: unit.milliseconds)
            return overflow ? nil : .milliseconds(milliseconds)
        }
        return nil
    }

    static func byteSize(_ text: String) -> Int? {
        let units: [(suffix: String, factor: Int)] = [("KiB", 1024), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1)]
        if let bytes = Int(text) { return bytes }
        for unit in units where text.hasSuffix(unit.suffix) {
            guard let amount = Int(text.dropLast(unit.suffix.count).filter { $0 != " " }) else { return nil }
            let (bytes, overflow) = amount.multipliedReportingOverflow(by: unit.factor)
            return overflow ? nil : bytes
        }
        return nil
    }
}
