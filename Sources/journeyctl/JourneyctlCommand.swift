import ArgumentParser

/// `journeyctl`: the companion CLI of journeyd.
@main
struct JourneyctlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journeyctl",
        abstract: "Tools beside the journeyd daemon.",
        subcommands: [
            CheckConfigCommand.self, DevCertsCommand.self, WALCommand.self, SnapshotCommand.self, StreamLoadCommand.self,
            SimulateCommand.self, ScoreCommand.self, PhasesCommand.self,
        ])
}
