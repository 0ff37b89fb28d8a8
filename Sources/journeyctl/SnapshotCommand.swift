import ArgumentParser
import Foundation
import JourneyCore
import JourneyStorage

/// `journeyctl snapshot inspect|verify DIR`: read a snapshot from outside the daemon.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Inspect or verify a snapshot (docs/SNAPSHOTS.md).",
        subcommands: [SnapshotInspectCommand.self, SnapshotVerifyCommand.self])
}

/// DIR as the snapshot subcommands take it.
struct SnapshotLocation: ParsableArguments {
    @Argument(help: "A snapshot directory (<state_dir>/snapshots/<name>), or the snapshots directory (then LATEST is used).")
    var directory: String

    func resolve() throws -> String {
        do {
            return try SnapshotLocator.resolve(directory)
        } catch {
            FileHandle.standardError.write(Data("journeyctl: \(error.description)\n".utf8))
            throw ExitCode(66)  // EX_NOINPUT
        }
    }
}

struct SnapshotVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a snapshot completely: checksums and sizes, row counts, every row's fields, table order, permissions.",
        discussion: "Exits 0 when everything checks out, 1 naming the first problem (file, row, what), 66 when DIR is not a snapshot.")

    @OptionGroup var location: SnapshotLocation

    func run() throws {
        let directory = try location.resolve()
        let name = (directory as NSString).lastPathComponent
        do {
            let report = try SnapshotVerifier.verify(directory: directory)
            let rows = report.rows.reduce(0) { $0 + $1.rows }
            let bytes = report.manifest.files.reduce(0) { $0 + $1.bytes }
            for note in report.notes { print("note: \(note)") }
            print("\(name): OK — \(report.manifest.files.count) files, \(TextFormat.bytes(bytes)), \(TextFormat.number(rows)) rows checked")
        } catch {
            FileHandle.standardError.write(Data("journeyctl: snapshot \(name) is not valid: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct SnapshotInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise a snapshot: manifest, counts, file sizes, time range, channels, phase funnel, stages.")

    @OptionGroup var location: SnapshotLocation

    @Option(help: "How many channels to list.")
    var top: Int = 10

    func run() throws {
        let directory = try location.resolve()
        let summary: SnapshotSummary
        do {
            summary = try SnapshotInspector.summarize(directory: directory)
        } catch {
            FileHandle.standardError.write(Data("journeyctl: cannot read snapshot \(directory): \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        print(SnapshotReport.render(summary, top: max(top, 1)), terminator: "")
    }
}

/// The text of `snapshot inspect`.
enum SnapshotReport {
    static func render(_ summary: SnapshotSummary, top: Int) -> String {
        var out = ""
        func line(_ text: String = "") { out += text + "\n" }
        let manifest = summary.manifest
        let profiles = summary.profiles

        line("snapshot      \(summary.name)")
        line("directory     \(summary.directory)")
        line("created_at    \(manifest.createdAt)")
        line("wal_position  \(manifest.walPosition)")
        line()
        line("counts")
        var counts: [(String, Int, Int)] = [
            ("profiles", manifest.counts.profiles, summary.profiles), ("touchpoints", manifest.counts.touchpoints, summary.touchpoints),
            ("identities", manifest.counts.identities, summary.identities), ("merges", manifest.counts.merges, summary.merges),
        ]
        if let shared = manifest.counts.sharedIdentifiers { counts.append(("shared ids", shared, summary.sharedIdentifiers)) }
        for (name, listed, read) in counts {
            var text = "  " + TextFormat.pad(name, 14) + TextFormat.padLeft(TextFormat.number(listed), 12)
            if name == "merges" && summary.blockedMerges > 0 { text += "   (\(TextFormat.number(summary.blockedMerges)) blocked)" }
            if listed != read { text += "   ! \(TextFormat.number(read)) rows read" }
            line(text)
        }
        line()
        line("files" + String(repeating: " ", count: 29) + TextFormat.padLeft("bytes", 12) + TextFormat.padLeft("rows", 13))
        for file in manifest.files {
            line("  " + TextFormat.pad(file.name, 32) + TextFormat.padLeft(TextFormat.bytes(file.bytes), 12)
                + TextFormat.padLeft(file.name == SnapshotStore.checkpointFile ? "-" : TextFormat.number(file.rows), 13))
        }
        line("  " + TextFormat.pad("total", 32) + TextFormat.padLeft(TextFormat.bytes(manifest.files.reduce(0) { $0 + $1.bytes }), 12))
        line()
        line("touchpoints")
        line("  first ts    \(summary.firstTouchpoint ?? "-")")
        line("  last ts     \(summary.lastTouchpoint ?? "-")")
        if profiles > 0 {
            let mean = Double(summary.touchpoints) / Double(profiles)
            line("  per profile \(String(format: "%.1f", mean)) on average, \(TextFormat.number(summary.maxTouchpointsPerProfile)) at most")
        }
        line()
        line("top channels (touchpoints)")
        table(summary.channels.prefix(top), of: summary.touchpoints, into: &out)
        if summary.channels.count > top { line("  … \(summary.channels.count - top) more") }
        line()
        line("event types (touchpoints)")
        table(summary.eventTypes[...], of: summary.touchpoints, into: &out)
        line()
        line("phase funnel (profiles that reached each phase)")
        table(summary.funnel[...], of: profiles, into: &out, bars: true)
        line()
        line("converted     " + TextFormat.padLeft(TextFormat.number(summary.converted), 12) + "  " + TextFormat.percent(summary.converted, of: profiles)
             + " of profiles reached buy")
        line()
        line("stage (current phase of each profile)")
        table(summary.stages[...], of: profiles, into: &out, bars: true)
        line()
        line("channels used per profile")
        table(summary.channelsPerProfile[...], of: profiles, into: &out)
        if !summary.identifierTypes.isEmpty {
            line()
            line("identities by type")
            table(summary.identifierTypes[...], of: summary.identities, into: &out)
        }
        if !summary.mergeReasons.isEmpty {
            line()
            line("merges by reason")
            table(summary.mergeReasons[...], of: summary.merges, into: &out)
        }
        return out
    }

    private static func table(_ rows: ArraySlice<SnapshotSummary.Count>, of total: Int, into out: inout String, bars: Bool = false) {
        if rows.isEmpty {
            out += "  (none)\n"
            return
        }
        let width = max(12, (rows.map(\.name.count).max() ?? 0) + 2)
        for row in rows {
            var text = "  " + TextFormat.pad(row.name, width) + TextFormat.padLeft(TextFormat.number(row.count), 12) + "  "
                + TextFormat.padLeft(TextFormat.percent(row.count, of: total), 6)
            if bars && total > 0 {
                text += "  " + String(repeating: "#", count: Int((Double(row.count) / Double(total) * 30).rounded()))
            }
            out += text + "\n"
        }
    }
}

enum TextFormat {
    static func number(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }

    static func percent(_ part: Int, of total: Int) -> String {
        guard total > 0 else { return "-" }
        return String(format: "%.1f%%", Double(part) * 100 / Double(total))
    }

    static func bytes(_ value: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var size = Double(value)
        var unit = 0
        while size >= 1024 && unit < units.count - 1 {
            size /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : String(format: "%.1f", size) + " " + units[unit]
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func padLeft(_ text: String, _ width: Int) -> String {
        text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
    }
}
