import JourneyCore
import JourneySimulation

/// One `POST /v1/batch` body: `{"batch":[…events…],"sentAt":"…"}`.
struct GeneratedBatch {
    var body: [UInt8]
    /// Per event: where 8 hex digits of its message id start in `body` (see `EventInfo`).
    var messageIDOffsets: [Int]
    /// Per event: sent by a phone app (true) or a browser.
    var mobile: [Bool]
    /// Per event: its JSON text's length in bytes.
    var eventBytes: [Int]
    /// When the simulated server receives it (the latest `sentAt` plus network time).
    var receivedAt: Timestamp
}

extension CorpusGenerator {
    /// A batch as a client flushing its queue sends it: every event carries the same send time
    /// (`sentAt`, in its own device's clock), taken after the last event was ready, so the
    /// daemon's clock-skew correction (`receivedAt − (sentAt − timestamp)`) recovers each event's
    /// true time and late (offline) events keep their earlier time.
    mutating func batch(events count: Int) -> GeneratedBatch {
        var writer = ByteJSON(capacity: count * 1_200 + 128)
        var offsets: [Int] = []
        var mobile: [Bool] = []
        var sizes: [Int] = []
        offsets.reserveCapacity(count)
        mobile.reserveCapacity(count)
        sizes.reserveCapacity(count)
        var latestReady = Int64.min
        var patches: [(offset: Int, skew: Int64)] = []
        patches.reserveCapacity(count)
        writer.beginObject()
        writer.beginArray("batch")
        for index in 0..<count {
            let start = writer.count + (index > 0 ? 1 : 0)
            let info = writeEvent(into: &writer)
            offsets.append(info.messageIDOffset)
            mobile.append(info.mobile)
            sizes.append(writer.count - start)
            latestReady = max(latestReady, info.readyAt)
            patches.append((info.sentAtOffset, info.skew))
        }
        let sentAt = latestReady + Int64(flushDelay())
        writer.endArray()
        writer.timestamp("sentAt", Timestamp(millisecondsSinceEpoch: sentAt))
        writer.endObject()
        for patch in patches {
            let text = Timestamp(millisecondsSinceEpoch: sentAt + patch.skew).rfc3339Bytes
            precondition(text.count == 24, "sentAt must keep its width")
            writer.bytes.replaceSubrange(patch.offset..<patch.offset + 24, with: text)
        }
        return GeneratedBatch(
            body: writer.bytes, messageIDOffsets: offsets, mobile: mobile, eventBytes: sizes,
            receivedAt: Timestamp(millisecondsSinceEpoch: sentAt + 150))
    }
}

/// The two sources the simulated company sends from, as `journeyd` would configure them.
enum BenchSources {
    static let web = SourceInfo(name: "website", channel: "web")
    static let mobile = SourceInfo(name: "shop-app", channel: "mobile")
}

/// Parses a batch body and normalises its events the way `TrackingAPIController` does; used to
/// prepare the stitcher's input (untimed), with each event's source chosen by its SDK.
struct BatchNormaliser {
    let normaliser = EventNormaliser(settings: .init())
    private(set) var rejected = 0

    mutating func normalise(_ batch: GeneratedBatch, into events: inout [NormalisedEvent]) {
        let document: JSONDocument
        do {
            document = try JSONDocument(bytes: batch.body)
        } catch {
            fatalError("generated batch is not valid JSON: \(error)")
        }
        let web = EventNormaliser.Envelope(source: BenchSources.web, receivedAt: batch.receivedAt)
        let mobile = EventNormaliser.Envelope(source: BenchSources.mobile, receivedAt: batch.receivedAt)
        for (index, item) in document.root["batch"]!.elements.enumerated() {
            do {
                events.append(try normaliser.normalise(item, envelope: batch.mobile[index] ? mobile : web))
            } catch {
                rejected += 1
            }
        }
    }
}
