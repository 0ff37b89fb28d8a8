/// The baseline stitcher of warehouse ID-stitching jobs: every identifier an event carries links
/// the event to every other event carrying any of them, transitively, with no limits (no merge
/// protection). Union-find with path halving and union by size over interned identifier keys.
///
/// A value owned by one scorer.
public struct ConnectedComponents {
    private var parent: [Int] = []
    private var size: [Int] = []
    private var ids: [String: Int] = [:]

    private init() {}

    /// The component label of each item, given the identifier keys of each item (an item with
    /// none is a component of its own). Labels are small integers, equal for items in one component.
    public static func labels(of items: [[String]]) -> [Int] {
        var components = ConnectedComponents()
        var firstNode: [Int] = []
        firstNode.reserveCapacity(items.count)
        for keys in items {
            let nodes = keys.map { components.node(for: $0) }
            if let first = nodes.first {
                for node in nodes.dropFirst() { components.union(first, node) }
                firstNode.append(first)
            } else {
                firstNode.append(components.newNode())
            }
        }
        return firstNode.map { components.find($0) }
    }

    private mutating func newNode() -> Int {
        parent.append(parent.count)
        size.append(1)
        return parent.count - 1
    }

    private mutating func node(for key: String) -> Int {
        if let id = ids[key] { return id }
        let id = newNode()
        ids[key] = id
        return id
    }

    private mutating func find(_ node: Int) -> Int {
        var node = node
        while parent[node] != node {
            parent[node] = parent[parent[node]]
            node = parent[node]
        }
        return node
    }

    private mutating func union(_ a: Int, _ b: Int) {
        var rootA = find(a)
        var rootB = find(b)
        guard rootA != rootB else { return }
        if size[rootA] < size[rootB] { swap(&rootA, &rootB) }
        parent[rootB] = rootA
        size[rootA] += size[rootB]
    }
}
