import ArgumentParser
import Foundation
import JourneyCore
import JourneyStorage
import Logging

/// `journeyctl wal dump DIR`: prints every WAL record, one JSON line each, for debugging.
struct WALCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal", abstract: "Inspect the write-ahead log.", subcommands: [WALDumpCommand.self])
}

struct WALDumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print the WAL's records as JSON lines: position, type and the event. Read-only: a damaged tail is reported, not cut.")

    @Argument(help: "The WAL directory (<state_dir>/wal).")
    var directory: String

    @Option(help: "Only records ending after this position.")
    var after: UInt64 = 0

    func run() throws {
        var records = 0
        let scan = try WALReader.read(directory: directory, after: after) { record in
            var writer = JSONWriter(capacity: 512)
            writer.beginObject()
            writer.key("position")
            writer.int(Int(record.endLSN))
            writer.key("type")
            switch record.type {
            case .event:
                writer.string("event")
                var reader = BinaryReader(record.payload)
                let event = try NormalisedEvent(decoding: &reader)
                writer.key("message_id")
                writer.string(event.messageID)
                writer.key("source")
                writer.string(event.source)
                writer.key("event_type")
                writer.string(event.type.rawValue)
                writer.key("name")
                if let name = event.name { writer.string(name) } else { writer.null() }
                writer.key("ts")
                writer.string(event.timestamp.description)
                writer.key("identifiers")
                writer.beginArray()
                for identifier in event.identifiers {
                    writer.string(identifier.type.rawValue + ":" + identifier.value)
                }
                writer.endArray()
            case .operation:
                writer.string("operation")
                var reader = BinaryReader(record.payload)
                let recorded = try RecordedOperation(decoding: &reader)
                writer.key("at")
                writer.string(recorded.at.description)
                writer.key("operation")
                writer.string(recorded.operation.summary)
            }
            writer.endObject()
            print(String(decoding: writer.bytes, as: UTF8.self))
            records += 1
        }
        FileHandle.standardError.write(Data("\(records) records, log ends at position \(scan.endLSN)\(scan.bytesCut > 0 ? ", damaged tail of \(scan.bytesCut) bytes" : "")\n".utf8))
    }
}
