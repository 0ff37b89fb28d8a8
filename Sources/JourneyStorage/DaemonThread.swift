import CSystemSupport
import Foundation

/// Starts JourneyStorage's dedicated threads (WAL flushing and segment removal, snapshot writing
/// and verification, recovery), each named for the kernel so that `top -H`, `ps -L` and `perf`
/// say what it is (Foundation's `Thread.name` does not reach the kernel on Linux), and optionally
/// at idle priority (`journeyd_set_thread_background`). The thread ends when `body` returns.
enum DaemonThread {
    /// - Parameters:
    ///   - name: at most 15 bytes (the kernel's limit; longer names are cut).
    ///   - background: run at idle priority (SCHED_IDLE), for work that must not slow ingest.
    static func start(_ name: String, background: Bool = false, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            _ = journeyd_set_thread_name(name)
            if background { _ = journeyd_set_thread_background() }
            body()
        }
        thread.name = name
        thread.start()
    }
}
