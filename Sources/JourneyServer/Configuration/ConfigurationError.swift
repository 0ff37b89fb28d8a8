/// Why a configuration cannot be used. Every case names the key (as a path such as
/// `sources[1].write_key`) so the operator knows exactly what to change.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    case unreadableFile(path: String, reason: String)
    case invalidYAML(String)
    case unknownKey(String, allowed: [String])
    case missingKey(String)
    case invalidValue(key: String, message: String)

    /// The offending key, if the error is about one.
    public var key: String? {
        switch self {
        case .unreadableFile, .invalidYAML: return nil
        case .unknownKey(let key, _), .missingKey(let key), .invalidValue(let key, _): return key
        }
    }

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            return "cannot read config file \(path): \(reason)"
        case .invalidYAML(let reason):
            return "config file is not valid YAML: \(reason)"
        case .unknownKey(let key, let allowed):
            return "\(key): unknown key (allowed here: \(allowed.joined(separator: ", ")))"
        case .missingKey(let key):
            return "\(key): required key is missing"
        case .invalidValue(let key, let message):
            return "\(key): \(message)"
        }
    }
}
