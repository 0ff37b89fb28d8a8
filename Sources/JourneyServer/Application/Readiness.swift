import Synchronization

/// Whether the daemon is ready to serve: false until recovery and binding are done, false again
/// once shutdown begins. Shared across tasks; an atomic flag.
public final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)

    public init() {}

    public var isReady: Bool { ready.load(ordering: .acquiring) }

    public func set(_ value: Bool) {
        ready.store(value, ordering: .releasing)
    }
}
