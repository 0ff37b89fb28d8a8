/// A map for a handful of entries (a profile's identifier types, channels, phases): one small
/// array of pairs searched linearly, which is both smaller and faster than a hashed `Dictionary`
/// at these sizes. A value type; one owner mutates it. Iteration is in insertion order.
public struct SmallMap<Key: Equatable, Value>: Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: Key, value: Value)

    private var pairs: [Element] = []

    public init() {}

    public init(dictionaryLiteral elements: (Key, Value)...) {
        self.init(elements)
    }

    /// The pairs in order; a repeated key keeps its last value.
    public init(_ elements: [(Key, Value)]) {
        for (key, value) in elements { self[key] = value }
    }

    public var count: Int { pairs.count }

    public subscript(key: Key) -> Value? {
        // Inlined, a lookup reads the pairs in place; called, it retained and released them.
        @inline(__always) get { pairs.first { $0.key == key }?.value }
        set {
            if let index = pairs.firstIndex(where: { $0.key == key }) {
                if let newValue { pairs[index].value = newValue } else { pairs.remove(at: index) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
        }
    }

    public subscript(key: Key, default defaultValue: @autoclosure () -> Value) -> Value {
        get { self[key] ?? defaultValue() }
        set { self[key] = newValue }
    }

    public mutating func merge(_ other: SmallMap, uniquingKeysWith combine: (Value, Value) -> Value) {
        for (key, value) in other.pairs {
            self[key] = self[key].map { combine($0, value) } ?? value
        }
    }

    public func makeIterator() -> IndexingIterator<[Element]> {
        pairs.makeIterator()
    }
}

extension SmallMap: Sendable where Key: Sendable, Value: Sendable {}

extension SmallMap: Equatable where Value: Equatable {
    /// Equal when both hold the same keys with equal values, whatever the insertion order.
    public static func == (lhs: SmallMap, rhs: SmallMap) -> Bool {
        lhs.count == rhs.count && lhs.allSatisfy { rhs[$0.key] == $0.value }
    }
}
