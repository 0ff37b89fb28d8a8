import Synchronization

/// Bounds how many tracking requests are in progress at once. Past the bound a request is
/// refused at once (503 with Retry-After) rather than queued, so overload never turns into an
/// unbounded queue of request bodies in memory (DESIGN.md, Inputs). Shared by all request tasks;
/// the bound is given with each request, as `limits.max_pending_requests` can change on reload.
final class AdmissionGate: Sendable {
    private let inProgress = Atomic<Int>(0)

    /// Takes a place if fewer than `limit` are taken; the caller must `leave()` when done.
    func tryEnter(limit: Int) -> Bool {
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
