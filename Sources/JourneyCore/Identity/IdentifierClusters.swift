/// The connected components ("clusters") of the identifier graph *without* merge protection:
/// two identifiers are in one cluster when a chain of events links them (every linking
/// identifier of an event, and for an alias both readings of its `previousId`). Merge protection
/// only ever decides between profiles inside one cluster, so a cluster is the unit of
/// re-resolution: replaying its events in canonical order gives its canonical profiles without
/// looking at anything else.
///
/// Union-find over interned identifier ids with union by size and path halving. Each cluster also
/// keeps a circular list of its members, to enumerate them in time proportional to the cluster,
/// and a reference to its latest event in canonical order, to tell whether a new event arrives in
/// order. Chunked storage (see `ChunkedArray`); a value type with one owner (the `Stitcher`).
struct IdentifierClusters {
    private var parent = ChunkedArray<UInt32>()
    private var next = ChunkedArray<UInt32>()
    /// Members of the cluster, valid at roots.
    private var size = ChunkedArray<UInt32>()
    /// The latest event of the cluster, valid at roots; nil while no event has been placed.
    private var latest = ChunkedArray<EventReference?>()
    /// What placing its events has involved, valid at roots (`ComponentHistory`).
    private var history = ChunkedArray<ComponentHistory>()

    var count: Int { parent.count }

    /// Adds a cluster holding only identifier `id`, which must be the next id.
    mutating func append(_ id: UInt32) {
        precondition(Int(id) == parent.count)
        parent.append(id)
        next.append(id)
        size.append(1)
        latest.append(nil)
        history.append([])
    }

    /// The root of `id`'s cluster, without shortening the path (for readers of a shared copy).
    func findRoot(of id: UInt32) -> UInt32 {
        var current = id
        while parent[Int(current)] != current { current = parent[Int(current)] }
        return current
    }

    /// The root of `id`'s cluster; halves the path on the way.
    mutating func root(of id: UInt32) -> UInt32 {
        var current = id
        while parent[Int(current)] != current {
            let grandparent = parent[Int(parent[Int(current)])]
            parent[Int(current)] = grandparent
            current = grandparent
        }
        return current
    }

    func latestEvent(ofRoot root: UInt32) -> EventReference? {
        latest[Int(root)]
    }

    mutating func setLatestEvent(ofRoot root: UInt32, _ event: EventReference) {
        latest[Int(root)] = event
    }

    func history(ofRoot root: UInt32) -> ComponentHistory {
        history[Int(root)]
    }

    mutating func noteHistory(_ more: ComponentHistory, ofRoot root: UInt32) {
        history[Int(root)].formUnion(more)
    }

    /// Joins the clusters of `a` and `b`; returns the root of the result and, when both had a
    /// latest event, the one the result did not keep, for the caller to compare (it knows the
    /// canonical order) and set with `setLatestEvent` if it is later.
    mutating func union(_ a: UInt32, _ b: UInt32) -> (root: UInt32, displaced: EventReference?) {
        var (first, second) = (root(of: a), root(of: b))
        guard first != second else { return (first, nil) }
        if size[Int(first)] < size[Int(second)] { swap(&first, &second) }
        parent[Int(second)] = first
        size[Int(first)] += size[Int(second)]
        // Splicing two circular lists is swapping one successor of each.
        let successor = next[Int(first)]
        next[Int(first)] = next[Int(second)]
        next[Int(second)] = successor
        history[Int(first)].formUnion(history[Int(second)])
        history[Int(second)] = []
        var displaced = latest[Int(second)]
        if latest[Int(first)] == nil {
            latest[Int(first)] = displaced
            displaced = nil
        }
        latest[Int(second)] = nil
        return (first, displaced)
    }

    /// Every member of the cluster whose root is `root`.
    func members(ofRoot root: UInt32) -> [UInt32] {
        var result: [UInt32] = [root]
        result.reserveCapacity(Int(size[Int(root)]))
        var current = next[Int(root)]
        while current != root {
            result.append(current)
            current = next[Int(current)]
        }
        return result
    }

    /// Makes every identifier in `members` (a whole cluster) a cluster of its own again, before
    /// the cluster is rebuilt from its events.
    mutating func dissolve(_ members: [UInt32]) {
        for member in members {
            parent[Int(member)] = member
            next[Int(member)] = member
            size[Int(member)] = 1
            latest[Int(member)] = nil
            history[Int(member)] = []
        }
    }
}

/// A stored event, by its corrected time and the location of its payload (which holds the
/// message id and source that break ties). 16 bytes; ordered by the stitcher, which can read the
/// payload.
struct EventReference: Equatable {
    var timestamp: Int64
    var payload: PayloadLocation
}

/// What placing a component's events has involved so far. A component none of these happened in
/// holds a single profile built without merges, which a late event can join in place
/// (`Stitcher.placeArriving`) instead of re-resolving the component.
struct ComponentHistory: OptionSet {
    let rawValue: UInt8

    /// Two profiles were joined.
    static let merged = ComponentHistory(rawValue: 1)
    /// A join or a link was refused (merge protection or a split rule): it may hold several profiles.
    static let refused = ComponentHistory(rawValue: 2)
    /// An alias was placed (its reading of `previousId` depends on the order).
    static let alias = ComponentHistory(rawValue: 4)
}
