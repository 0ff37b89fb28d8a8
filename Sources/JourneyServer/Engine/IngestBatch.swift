import JourneyCore
import JourneyStorage

/// The valid events of one request or stream chunk, each with its write-ahead-log record already
/// framed. The ingest task that validated the events builds it — in parallel with every other
/// connection — so that the engine, the single writer, only copies finished records into the log
/// instead of encoding and checksumming every event itself. An event the engine then finds stored
/// already (a resend) was framed for nothing; resends are the exception.
///
/// A value owned by one ingest task until it hands it to `IngestEngine.ingest`.
public struct IngestBatch: Sendable {
    public private(set) var events: [NormalisedEvent] = []
    /// One `.event` record per entry of `events`, in the same order.
    private(set) var records = WALBatch()

    public init() {}

    /// Makes room for the records of events read from `inputBytes` bytes of JSON (an event's
    /// record is smaller than its JSON), so that the records are not copied as they grow.
    public mutating func reserveCapacity(inputBytes: Int) {
        records.reserveCapacity(bytes: inputBytes)
    }

    public var count: Int { events.count }
    public var isEmpty: Bool { events.isEmpty }

    /// The events and their records, for the engine; consuming, so the events array is handed on
    /// without another reference to it (`Stitcher.apply` then takes events out without copies).
    consuming func parts() -> (events: [NormalisedEvent], records: WALBatch) {
        (events, records)
    }

    public mutating func append(_ event: consuming NormalisedEvent) {
        records.add(.event) { event.encode(into: &$0) }
        events.append(event)
    }
}
