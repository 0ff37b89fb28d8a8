import Foundation
import Logging

/// Unlinks the WAL segments a snapshot covers, on a thread of its own: freeing gigabytes of files
/// takes ext4 long enough (hundreds of milliseconds) to hold up a group commit, and with it every
/// acknowledgement, if the WAL's flusher did it. Thread-safe; all state is guarded by `condition`.
final class SegmentRemover: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [String] = []
    private var running = false
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// Queues the files for removal and returns at once.
    func remove(_ paths: [String]) {
        guard !paths.isEmpty else { return }
        condition.lock()
        defer { condition.unlock() }
        queue += paths
        guard !running else { return }
        running = true
        DaemonThread.start("wal-remove") { [self] in self.work() }
    }

    /// Waits until every queued file is removed (at close).
    func drain() {
        condition.lock()
        defer { condition.unlock() }
        while running { condition.wait() }
    }

    private func work() {
        while true {
            condition.lock()
            guard !queue.isEmpty else {
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
            let path = queue.removeFirst()
            condition.unlock()
            // A segment left behind is harmless: recovery skips what a snapshot covers, and the
            // next start removes it again.
            if unlink(path) != 0 && errno != ENOENT {
                logger.warning("WAL segment not removed", metadata: ["file": "\(path)", "error": "\(String(cString: strerror(errno)))"])
            }
        }
    }
}
