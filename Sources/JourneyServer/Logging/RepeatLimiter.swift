import Logging
import Synchronization

/// Lets a repeated log line through at most once per `interval` per kind (e.g. per message), and
/// counts the ones held back, so a flood of the same problem (a misconfigured client retrying a
/// refused handshake hundreds of times a second) costs one line per interval that says how many
/// were suppressed. Shared by all tasks (its state sits behind a `Mutex`).
final class RepeatLimiter: Sendable {
    private struct Entry {
        var lastWritten: ContinuousClock.Instant
        var suppressed: Int
    }

    let interval: Duration
    private let entries = Mutex<[String: Entry]>([:])

    init(interval: Duration = .seconds(10)) {
        self.interval = interval
    }

    /// Nil when this occurrence is to be suppressed; otherwise how many of its kind were
    /// suppressed since the last one written (0 for the first).
    func admit(_ kind: String, now: ContinuousClock.Instant = .now) -> Int? {
        entries.withLock { entries in
            if var entry = entries[kind], now - entry.lastWritten < interval {
                entry.suppressed += 1
                entries[kind] = entry
                return nil
            }
            let suppressed = entries[kind]?.suppressed ?? 0
            entries[kind] = Entry(lastWritten: now, suppressed: 0)
            return suppressed
        }
    }
}

extension RepeatLimiter {
    /// Writes the line unless one with the same message was written within the interval; the
    /// next one written carries `suppressed=N`.
    func log(_ logger: Logger, _ level: Logger.Level, _ message: Logger.Message, metadata: Logger.Metadata) {
        guard let suppressed = admit(message.description) else { return }
        var metadata = metadata
        if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        logger.log(level: level, message, metadata: metadata)
    }
}
