import Foundation
import JourneyCore
import JourneyStorage

/// One line of `truth.jsonl.gz`: who really sent an event, and the identifier values it carried.
///
/// `{"message_id":"…","source":"website","customer":"c42","household":21,"deliveries":1,
///   "identifiers":[{"type":"anonymous_id","value":"…"},{"type":"user_id","value":"null"}]}`
///
/// `household` is null unless the customer shares a device with its household partner;
/// `identifiers` are raw, as sent (junk values included): readers normalise them as journeyd does.
public struct GroundTruthRecord: Sendable, Equatable {
    public var messageID: String
    public var source: String
    public var customer: String
    public var household: Int?
    public var deliveries: Int
    public var identifiers: [RawIdentifier]

    public init(messageID: String, source: String, customer: String, household: Int?, deliveries: Int, identifiers: [RawIdentifier]) {
        self.messageID = messageID
        self.source = source
        self.customer = customer
        self.household = household
        self.deliveries = deliveries
        self.identifiers = identifiers
    }

    init(_ event: SimulatedEvent) {
        self.init(
            messageID: event.messageID, source: event.source.name, customer: "c" + String(event.customer), household: event.household,
            deliveries: event.deliveries, identifiers: event.identifiers)
    }

    func appendJSON(to out: inout [UInt8]) {
        var json = ByteJSON(capacity: 512)
        json.beginObject()
        json.string("message_id", messageID)
        json.string("source", source)
        json.string("customer", customer)
        if let household { json.int("household", household) } else { json.null("household") }
        json.int("deliveries", deliveries)
        json.beginArray("identifiers")
        for identifier in identifiers {
            json.beginObject()
            json.string("type", identifier.type)
            json.string("value", identifier.value)
            json.endObject()
        }
        json.endArray()
        json.endObject()
        out.append(contentsOf: json.bytes)
    }

    /// Parses one line; throws naming the field that is missing or has the wrong type.
    public init(json row: JSONValue) throws(SimulationError) {
        func text(_ key: String) throws(SimulationError) -> String {
            guard let value = row[key]?.string else { throw .malformed(path: SimulationFiles.truthFile, line: 0, reason: "\(key) must be a string") }
            return value
        }
        var identifiers: [RawIdentifier] = []
        for entry in row["identifiers"].map({ Array($0.elements) }) ?? [] {
            guard let type = entry["type"]?.string, let value = entry["value"]?.string else {
                throw .malformed(path: SimulationFiles.truthFile, line: 0, reason: "identifiers must be {type, value} strings")
            }
            identifiers.append(RawIdentifier(type: type, value: value))
        }
        self.init(
            messageID: try text("message_id"), source: try text("source"), customer: try text("customer"),
            household: row["household"]?.int, deliveries: row["deliveries"]?.int ?? 1, identifiers: identifiers)
    }

    /// Reads every record of a ground-truth file (a `truth.jsonl.gz`, or a directory holding one).
    public static func readAll(path: String) throws(SimulationError) -> [GroundTruthRecord] {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        guard exists else { throw .cannotRead(path: path, reason: "no such file or directory") }
        let file = isDirectory.boolValue ? path + "/" + SimulationFiles.truthFile : path
        var records: [GroundTruthRecord] = []
        do {
            try SnapshotTableReader.forEachRow(path: file) { row, number in
                do {
                    records.append(try GroundTruthRecord(json: row))
                } catch SimulationError.malformed(_, _, let reason) {
                    throw SimulationError.malformed(path: file, line: number, reason: reason)
                }
            }
        } catch let error as SimulationError {
            throw error
        } catch {
            throw .cannotRead(path: file, reason: String(describing: error))
        }
        return records
    }
}
