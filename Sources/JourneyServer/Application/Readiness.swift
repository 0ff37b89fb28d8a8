import Synchronization

/// An on/off state shared across tasks as an atomic flag: whether the daemon is ready (false until
/// recovery and binding are done, false again once shutdown begins), or whether recovery is done.
public final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)

    public init() {}

    public var isReady: Bool { ready.load(ordering: .acquiring) }

    public func set(_ value: Bool) {
        ready.store(value, ordering: .releasing)
    }
}
