import Histogram

/// Latency percentiles of one send, read from an HDR histogram of microseconds (1 µs to 10 minutes
/// at three significant digits: every reported value is within 0.1 % of the one measured).
struct LatencySummary: Sendable, Equatable {
    var samples: Int
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double

    static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    /// Records `nanoseconds` (clamped to the histogram's range) as microseconds.
    static func record(nanoseconds: UInt64, in histogram: inout Histogram<UInt64>) {
        _ = histogram.record(Swift.min(Swift.max(nanoseconds / 1_000, 1), histogram.highestTrackableValue))
    }

    /// Percentiles in milliseconds.
    init(_ histogram: Histogram<UInt64>) {
        func milliseconds(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1_000 }
        samples = Int(histogram.totalCount)
        p50 = histogram.totalCount > 0 ? milliseconds(50) : 0
        p90 = histogram.totalCount > 0 ? milliseconds(90) : 0
        p99 = histogram.totalCount > 0 ? milliseconds(99) : 0
        p999 = histogram.totalCount > 0 ? milliseconds(99.9) : 0
        max = histogram.totalCount > 0 ? Double(histogram.max) / 1_000 : 0
    }
}
