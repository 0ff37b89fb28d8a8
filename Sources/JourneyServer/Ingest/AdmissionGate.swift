import Synchronization

/// Bounds how many tracking requests are in progress at once. Past the bound a request is
/// refused at once (503 with Retry-After) rather than queued, so overload never turns into an
/// unbounded queue of request bodies in memory (DESIGN.md, Inputs). Shared by all request tasks;
/// the bound is given with each request, as `limits.max_pending_requests` can change on reload.
final class AdmissionGate: Sendable {
    private let taken = Atomic<Int>(0)

    /// Requests admitted and not yet answered (the `journeyd_http_requests_in_progress` gauge).
    var inProgress: Int { taken.load(ordering: .relaxed) }

    /// Takes a place if fewer than `limit` are taken; the caller must `leave()` when done. A
    /// refused request never counts, so `inProgress` never exceeds the limit.
    func tryEnter(limit: Int) -> Bool {
        var current = taken.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = taken.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func leave() {
        taken.subtract(1, ordering: .releasing)
    }
}
