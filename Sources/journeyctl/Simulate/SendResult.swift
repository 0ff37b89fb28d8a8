import Histogram

/// What one send achieved, over HTTPS or the stream: counts from the daemon's answers, the time
/// from the first request (or connect) to the last answer, and the latency histogram.
struct SendResult: Sendable {
    /// Deliveries sent (duplicates included).
    var events = 0
    /// Events the daemon answered for as valid (HTTPS `accepted`; stream: settled lines less rejected ones).
    var accepted = 0
    /// Of those, already stored (HTTPS `duplicates`; the stream does not say).
    var duplicates: Int?
    /// Events the daemon refused (HTTPS `rejected` items, stream error lines).
    var rejected = 0
    /// Requests that failed for good (HTTPS) or connections that did not settle (stream).
    var failures = 0
    /// Requests repeated after a 429/503 answer or a dropped connection.
    var retries = 0
    var firstError: String?
    var jsonBytes = 0
    var seconds = 0.0
    var latency = LatencySummary.histogram()
}
