import ArgumentParser
import Foundation
import JourneySimulation
import JourneyStorage

/// `journeyctl score SNAPSHOT --truth FILE`: how much of a simulation a snapshot holds and how
/// well journeyd stitched it, next to a plain connected-components stitching of the same events.
/// The definitions are in docs/SIMULATE.md, "Scoring".
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a snapshot's stitching against the ground truth of journeyctl simulate.",
        discussion: """
            Prints events sent vs stored (lost, duplicated), pairwise precision, recall and F1 of the profiles \
            against the true customers, and the shared-device households merged into one profile — for journeyd \
            and for connected components over every usable identifier (no merge protection, junk values excluded \
            by journeyd's blocklist). Exits 66 when the snapshot or the ground truth cannot be read.
            """)

    @Argument(help: "A snapshot directory, a snapshots directory (its LATEST) or a state directory.")
    var snapshot: String

    @Option(help: ArgumentHelp("The ground truth: truth.jsonl.gz, or the directory simulate wrote it to.", valueName: "path"))
    var truth: String

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        let stored: StoredTouchpoints
        let records: [GroundTruthRecord]
        do {
            stored = try StoredTouchpoints.read(path: snapshot)
        } catch {
            FileHandle.standardError.write(Data("journeyctl: cannot read the snapshot \(snapshot): \(error.description)\n".utf8))
            throw ExitCode(66)
        }
        do {
            records = try GroundTruthRecord.readAll(path: truth)
        } catch {
            FileHandle.standardError.write(Data("journeyctl: cannot read the ground truth: \(error.description)\n".utf8))
            throw ExitCode(66)
        }
        let evaluation = StitchingEvaluation.evaluate(truth: records, stored: stored.rows)
        let report = ScoreReport(evaluation: evaluation, snapshot: stored.directory, truth: truth, propertiesBytes: stored.propertiesBytes)
        print(json ? report.json : report.text)
    }
}
