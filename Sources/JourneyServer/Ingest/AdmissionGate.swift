import Synchronization

/// Bounds how many tracking requests are in progress at once. Past the bound a request is
/// refused at once (503 with Retry-After) rather than queued, so overload never turns into an
/// unbounded queue of request bodies in memory (DESIGN.md, Inputs). Shared by all request tasks.
final class AdmissionGate: Sendable {
    private let inProgress = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a place if one is free; the caller must `leave()` when done.
    func tryEnter() -> Bool {
        let (previous, _) = inProgress.add(1, ordering: .acquiringAndReleasing)
        if previous >= limit {
            inProgress.subtract(1, ordering: .releasing)
            return false
        }
        return true
    }

    func leave() {
        inProgress.subtract(1, ordering: .releasing)
    }
}
