import Yams

/// A parsed YAML document reduced to what configuration needs: mappings (in file order),
/// sequences, scalars and null. Keeps key paths for error messages.
indirect enum ConfigTree: Equatable {
    case null
    case scalar(String)
    case sequence([ConfigTree])
    case mapping([(key: String, value: ConfigTree)])

    static func == (lhs: ConfigTree, rhs: ConfigTree) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.scalar(let a), .scalar(let b)): return a == b
        case (.sequence(let a), .sequence(let b)): return a == b
        case (.mapping(let a), .mapping(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    static func parse(yaml text: String) throws(ConfigurationError) -> ConfigTree {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            // Yams' own description repeats the whole file, inline secrets included: name only the key and line.
            let keys = duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            throw .invalidYAML("line \(context.mark.line): \(keys) appears twice in one mapping")
        } catch {
            throw .invalidYAML(String(describing: error))
        }
        guard let node else { return .mapping([]) }
        return try convert(node, path: "")
    }

    private static func convert(_ node: Node, path: String) throws(ConfigurationError) -> ConfigTree {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain, node.null != nil { return .null }
            return .scalar(scalar.string)
        case .sequence(let sequence):
            var items: [ConfigTree] = []
            for (index, item) in sequence.enumerated() {
                items.append(try convert(item, path: "\(path)[\(index)]"))
            }
            return .sequence(items)
        case .mapping(let mapping):
            var pairs: [(key: String, value: ConfigTree)] = []
            for (keyNode, valueNode) in mapping {
                guard let key = keyNode.scalar?.string else {
                    throw .invalidValue(key: path.isEmpty ? "(top level)" : path, message: "mapping keys must be plain strings")
                }
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                if pairs.contains(where: { $0.key == key }) {
                    throw .invalidValue(key: childPath, message: "key appears twice")
                }
                pairs.append((key, try convert(valueNode, path: childPath)))
            }
            return .mapping(pairs)
        case .alias:
            throw .invalidValue(key: path, message: "YAML aliases are not supported in the config file")
        }
    }

    /// Sets a scalar at a key path, creating mappings on the way (used for environment overrides).
    mutating func setScalar(_ value: String, at path: ArraySlice<String>) {
        guard let first = path.first else {
            self = .scalar(value)
            return
        }
        var pairs: [(key: String, value: ConfigTree)]
        if case .mapping(let existing) = self { pairs = existing } else { pairs = [] }
        if let index = pairs.firstIndex(where: { $0.key == first }) {
            pairs[index].value.setScalar(value, at: path.dropFirst())
        } else {
            var child = ConfigTree.null
            child.setScalar(value, at: path.dropFirst())
            pairs.append((first, child))
        }
        self = .mapping(pairs)
    }
}
