import Foundation
import JourneyCore
import Synchronization

/// Counters the sending tasks bump as answers arrive and the progress display reads: events
/// settled (acknowledged durable, or answered), and errors (rejected events, failed requests).
final class SendProgress: Sendable {
    let settled = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
}

/// Shows on stderr how far a send has got: on a terminal a bar redrawn in place a few times a
/// second (events, rate, errors, ETA); otherwise a plain line every five seconds. Runs as its own
/// task until cancelled, then writes its last state.
struct ProgressDisplay: Sendable {
    let total: Int
    let progress: SendProgress
    let interactive: Bool

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    func run() async {
        let start = ContinuousClock.now
        let interval: Duration = interactive ? .milliseconds(200) : .seconds(5)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            show(elapsed: start.duration(to: .now), final: Task.isCancelled)
        }
    }

    private func show(elapsed: Duration, final: Bool) {
        let text = Self.line(total: total, settled: progress.settled.load(ordering: .relaxed), errors: progress.errors.load(ordering: .relaxed), seconds: elapsed.inSeconds, bar: interactive)
        let output = interactive ? "\r\u{1B}[2K" + text + (final ? "\n" : "") : "journeyctl: " + text + "\n"
        FileHandle.standardError.write(Data(output.utf8))
    }

    /// `[########----------]  45,000 / 100,000 events  9,850 ev/s  errors 0  ETA 6 s`
    static func line(total: Int, settled: Int, errors: Int, seconds: Double, bar: Bool) -> String {
        let fraction = total > 0 ? min(1, Double(settled) / Double(total)) : 1
        let rate = seconds > 0 ? Double(settled) / seconds : 0
        let eta = rate > 0 ? String(format: "%.0f s", Double(total - settled) / rate) : "-"
        let width = 24
        let filled = Int((fraction * Double(width)).rounded(.down))
        let head = bar ? "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] " : ""
        return head + "\(TextFormat.number(settled)) / \(TextFormat.number(total)) events  \(TextFormat.number(Int(rate))) ev/s  errors \(TextFormat.number(errors))  ETA \(eta)"
    }
}
