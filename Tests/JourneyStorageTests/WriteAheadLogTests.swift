import Foundation
import JourneyCore
import Logging
import Synchronization
import Testing

@testable import JourneyStorage

/// The write-ahead log on real files: group commit, positions, torn tails, corruption, a full disk.
@Suite struct WriteAheadLogTests {
    static let logger = Logger(label: "wal-test")

    static func directory() -> String {
        let path = NSTemporaryDirectory() + "journeyd-wal-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func payload(_ index: Int, size: Int = 40) -> [UInt8] {
        Array("record-\(index)-".utf8) + [UInt8](repeating: UInt8(index % 251), count: size)
    }

    static func open(_ directory: String, durability: WriteAheadLog.Durability = .fsync, segmentBytes: UInt64 = 64 << 20, fileSystem: WALFileSystem = .posix) throws -> (WriteAheadLog, [WALRecord]) {
        var records: [WALRecord] = []
        let scan = try WALReader.replay(directory: directory, after: 0, logger: logger) { records.append($0) }
        let wal = try WriteAheadLog(
            directory: directory, durability: durability, scan: scan, segmentBytes: segmentBytes, retryInterval: .milliseconds(20),
            fileSystem: fileSystem, logger: logger)
        return (wal, records)
    }

    static func append(_ wal: WriteAheadLog, _ range: Range<Int>) throws -> UInt64 {
        var batch = WALBatch()
        for index in range { batch.add(.event, payload: payload(index)) }
        return try wal.append(batch)
    }

    /// A log holding records 0–9, synced and closed; returns its end and its one segment file.
    static func tenRecordsWritten(in directory: String) async throws -> (position: UInt64, file: String) {
        let (wal, _) = try open(directory)
        let position = try append(wal, 0..<10)
        try await wal.waitDurable(position)
        await wal.close()
        return (position, directory + "/" + WALFormat.segmentName(base: 0))
    }

    @Test(arguments: [WriteAheadLog.Durability.fsync, .interval(.milliseconds(10)), .none])
    func appendedRecordsComeBackInOrderAfterReopen(durability: WriteAheadLog.Durability) async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (wal, initial) = try Self.open(directory, durability: durability)
        #expect(initial.isEmpty)
        var last: UInt64 = 0
        for start in stride(from: 0, to: 100, by: 10) {
            let position = try Self.append(wal, start..<start + 10)
            #expect(position > last)
            last = position
        }
        try await wal.waitDurable(last)
        await wal.close()
        let (reopened, records) = try Self.open(directory)
        #expect(records.count == 100)
        #expect(records.map { Array($0.payload) } == (0..<100).map { Self.payload($0) })
        #expect(records.last?.endLSN == last)
        #expect(reopened.appendedLSN == last)
        await reopened.close()
    }

    /// Records framed ahead of time (by the ingest tasks) can be logged in part: the duplicates
    /// and refused events of a batch are left out, and what is logged reads back intact.
    @Test func aSubsetOfAFramedBatchIsLoggedRecordForRecord() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (wal, _) = try Self.open(directory)
        var framed = WALBatch()
        for index in 0..<6 { framed.add(.event, payload: Self.payload(index, size: 10 * index)) }
        #expect(framed.records(at: Array(0..<6)).bytes == framed.bytes)
        let subset = framed.records(at: [0, 3, 5])
        #expect(subset.count == 3)
        try await wal.waitDurable(try wal.append(subset))
        try await wal.waitDurable(try wal.append(framed.records(at: [])))
        await wal.close()
        let (reopened, records) = try Self.open(directory)
        #expect(records.map { Array($0.payload) } == [0, 3, 5].map { Self.payload($0, size: 10 * $0) })
        await reopened.close()
    }

    @Test func concurrentAppendersShareSyncs() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (wal, _) = try Self.open(directory)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<50 {
                group.addTask {
                    for round in 0..<20 {
                        let position = try Self.append(wal, (task * 1000 + round)..<(task * 1000 + round + 1))
                        try await wal.waitDurable(position)
                    }
                }
            }
            try await group.waitForAll()
        }
        let metrics = wal.metrics
        #expect(metrics.durableLSN == metrics.appendedLSN)
        // 1,000 acknowledged appends; group commit means far fewer syncs than appends.
        #expect(metrics.syncs < 1000, "syncs: \(metrics.syncs)")
        await wal.close()
        let (_, records) = try Self.open(directory)
        #expect(records.count == 1000)
    }

    /// Synced WAL pages leave the page cache (nothing reads them while the daemon runs): after
    /// 4 MB appended and made durable in 64 KB steps, at most the last MiB of the open segment is
    /// still cached, and every record reads back.
    @Test func syncedPagesLeaveThePageCache() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (wal, _) = try Self.open(directory)
        for step in 0..<64 {
            var batch = WALBatch()
            for index in 0..<16 { batch.add(.event, payload: Self.payload(step * 16 + index, size: 4_000)) }
            try await wal.waitDurable(try wal.append(batch))
        }
        let (cached, total) = try Self.cachedPages(of: directory + "/" + WALFormat.segmentName(base: 0))
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        #expect(total * pageSize >= 1_000 * 4096 && cached <= (1 << 20) / pageSize + 1, "\(cached) of \(total) pages cached")
        await wal.close()
        let (_, records) = try Self.open(directory)
        #expect(records.count == 1_024)
    }

    /// How many of a file's pages are in the page cache (`mincore(2)`), and how many it has.
    static func cachedPages(of path: String) throws -> (cached: Int, total: Int) {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        let size = Int(lseek(fd, 0, SEEK_END))
        guard let map = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), map != MAP_FAILED else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        defer { munmap(map, size) }
        var resident = [UInt8](repeating: 0, count: (size + pageSize - 1) / pageSize)
        guard mincore(map, size, &resident) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        return (resident.filter { $0 & 1 != 0 }.count, resident.count)
    }

    @Test func segmentsRotateAndPositionsStayContinuous() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (wal, _) = try Self.open(directory, segmentBytes: 1024)
        var positions: [UInt64] = []
        for index in 0..<200 {
            // Waiting for each record keeps every write small, so segments end close to the limit.
            positions.append(try Self.append(wal, index..<index + 1))
            try await wal.waitDurable(positions.last!)
        }
        await wal.close()
        let segments = try WALReader.segments(in: directory)
        #expect(segments.count > 5)
        let (reopened, records) = try Self.open(directory, segmentBytes: 1024)
        #expect(records.map(\.endLSN) == positions)
        // A snapshot at the 100th record releases the segments wholly before it.
        reopened.releaseSegments(before: positions[99])
        let more = try Self.append(reopened, 500..<501)
        try await reopened.waitDurable(more)
        await reopened.close()
        let remaining = try WALReader.segments(in: directory)
        #expect(remaining.count < segments.count)
        #expect(remaining.first!.base <= positions[99])
        var after: [WALRecord] = []
        _ = try WALReader.replay(directory: directory, after: positions[99], logger: Self.logger) { after.append($0) }
        #expect(after.count == 101)
    }

    @Test func aTornTailIsCutAtTheLastGoodRecord() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (position, file) = try await Self.tenRecordsWritten(in: directory)
        let intact = try Data(contentsOf: URL(fileURLWithPath: file))
        for cut in [1, 5, 9, 30] {
            // A crash in the middle of writing record 11: only part of it reached the disk.
            var torn = intact
            var extra: [UInt8] = []
            WALFormat.appendRecord(type: .event, payload: Self.payload(10), to: &extra)
            torn.append(contentsOf: extra.prefix(cut))
            try torn.write(to: URL(fileURLWithPath: file))
            var records: [WALRecord] = []
            let scan = try WALReader.replay(directory: directory, after: 0, logger: Self.logger) { records.append($0) }
            #expect(records.count == 10)
            #expect(scan.bytesCut == cut)
            #expect(scan.endLSN == position)
            #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == intact)
        }
        // A zero-filled tail (pre-allocated blocks after a crash) is cut too.
        var zeroed = intact
        zeroed.append(contentsOf: [UInt8](repeating: 0, count: 4096))
        try zeroed.write(to: URL(fileURLWithPath: file))
        let scan = try WALReader.replay(directory: directory, after: 0, logger: Self.logger) { _ in }
        #expect(scan.bytesCut == 4096)
    }

    @Test func corruptionInTheMiddleStopsUnlessSkipped() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (_, file) = try await Self.tenRecordsWritten(in: directory)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        // Flip one payload byte of the third record.
        let recordSize = (bytes.count - WALFormat.headerSize) / 10
        let offset = WALFormat.headerSize + 2 * recordSize + WALFormat.frameHeaderSize + 3
        bytes[offset] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        #expect(throws: WALError.corrupt(path: file, offset: WALFormat.headerSize + 2 * recordSize, reason: "checksum mismatch")) {
            _ = try WALReader.replay(directory: directory, after: 0, logger: Self.logger) { _ in }
        }
        var records: [WALRecord] = []
        let scan = try WALReader.replay(directory: directory, after: 0, skipCorrupt: true, logger: Self.logger) { records.append($0) }
        #expect(records.count == 9)
        #expect(scan.recordsSkipped == 1)
        #expect(!records.contains { Array($0.payload) == Self.payload(2) })
    }

    @Test func aFullDiskRefusesThenRecoversWithoutLosingAcknowledgedRecords() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let diskFull = Atomic<Bool>(false)
        let fileSystem = WALFileSystem(
            write: { fd, buffer in
                if diskFull.load(ordering: .acquiring) {
                    // Half the bytes make it, then the disk is full: the partial write must be undone.
                    let partial = Foundation.write(fd, buffer.baseAddress, buffer.count / 2)
                    if partial >= 0 && partial < buffer.count && buffer.count > 1 {
                        errno = ENOSPC
                        return -1
                    }
                    return partial
                }
                return Foundation.write(fd, buffer.baseAddress, buffer.count)
            },
            sync: { fd in fdatasync(fd) })
        let (wal, _) = try Self.open(directory, fileSystem: fileSystem)
        let acknowledged = try Self.append(wal, 0..<5)
        try await wal.waitDurable(acknowledged)

        diskFull.store(true, ordering: .releasing)
        let failing = try Self.append(wal, 5..<10)
        await #expect(throws: WALError.self) { try await wal.waitDurable(failing) }
        #expect(!wal.isAvailable)
        #expect(throws: WALError.self) { _ = try Self.append(wal, 10..<11) }

        diskFull.store(false, ordering: .releasing)
        let deadline = ContinuousClock.now + .seconds(10)
        while !wal.isAvailable, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(wal.isAvailable)
        // The records queued during the failure were written once the disk had room again.
        try await wal.waitDurable(failing)
        let after = try Self.append(wal, 10..<12)
        try await wal.waitDurable(after)
        await wal.close()
        let (_, records) = try Self.open(directory)
        #expect(records.map { Array($0.payload) } == (0..<12).map { Self.payload($0) })
    }

    /// Every call type, built-in and custom identifier types.
    @Test(arguments: EventType.allCases)
    func eventsRoundTripThroughTheBinaryEncoding(type: EventType) throws {
        let event = NormalisedEvent(
            messageID: "m-1", source: "web", channel: "web", type: type, name: nil,
            timestamp: Timestamp(millisecondsSinceEpoch: 1_700_000_000_123), receivedAt: Timestamp(millisecondsSinceEpoch: 1_700_000_001_000),
            identifiers: [
                Identifier(type: .userID, value: "ü-1"), Identifier(type: .email, value: "a@b.c"),
                Identifier(type: IdentifierType(rawValue: "loyalty_id"), value: "L-1"),
            ],
            aliasPreviousID: "prev", phase: .engage, properties: Array(#"{"a":1}"#.utf8)[...],
            traits: [TraitValue(key: "plan", json: Array(#""pro""#.utf8))])
        var writer = BinaryWriter()
        event.encode(into: &writer)
        var reader = BinaryReader(writer.bytes[...])
        #expect(try NormalisedEvent(decoding: &reader) == event)
        #expect(reader.isAtEnd)
        for cut in 0..<writer.bytes.count {
            var truncated = BinaryReader(writer.bytes[..<cut])
            #expect(throws: BinaryDecodingError.self) { _ = try NormalisedEvent(decoding: &truncated) }
        }
    }

    /// An event appended in one piece (counted, then written through a cursor) is byte for byte
    /// what writing it field by field gives, after bytes already written, for strings stored
    /// inline and on the heap, non-ASCII text, two- and three-byte varint lengths and a payload
    /// longer than the block of zeros the room is copied from.
    @Test func anEventAppendedInOnePieceEqualsItWrittenFieldByField() throws {
        let long = String(repeating: "é", count: 200)
        let events = [
            NormalisedEvent(
                messageID: "m", source: "web", channel: "web", type: .track, name: "Signed In",
                timestamp: Timestamp(millisecondsSinceEpoch: 0), receivedAt: Timestamp(millisecondsSinceEpoch: -1),
                identifiers: [], phase: nil),
            NormalisedEvent(
                messageID: "9A335EFC-F84D-45F6-B293-6FCBE87FB757", source: long, channel: "call_center", type: .alias,
                name: nil, timestamp: Timestamp(millisecondsSinceEpoch: .max), receivedAt: Timestamp(millisecondsSinceEpoch: 1_700_000_000_000),
                identifiers: [Identifier(type: .userID, value: long), Identifier(type: .anonymousID, value: "a-1")],
                aliasPreviousID: "prev", phase: .buy, properties: Array(repeating: UInt8(ascii: "x"), count: 20_000)[...],
                traits: [TraitValue(key: long, json: Array(repeating: UInt8(ascii: "1"), count: 300)), TraitValue(key: "", json: [])]),
        ]
        for event in events {
            var fieldByField = BinaryWriter()
            fieldByField.raw([0xAB, 0xCD])
            event.encode(to: &fieldByField)
            var inOnePiece = BinaryWriter()
            inOnePiece.raw([0xAB, 0xCD])
            event.encode(into: &inOnePiece)
            #expect(inOnePiece.bytes == fieldByField.bytes)
            var reader = BinaryReader(inOnePiece.bytes[2...])
            #expect(try NormalisedEvent(decoding: &reader) == event)
            #expect(reader.isAtEnd)
        }
    }

    /// A byte string written in place reads back like one written from a buffer, whether its
    /// length prefix takes the expected two bytes or one or three (the bytes move then).
    @Test func lengthPrefixedBytesWrittenInPlaceReadBack() throws {
        for length in [0, 1, 127, 128, 16_383, 16_384, 70_000] {
            let body = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            var inPlace = BinaryWriter()
            inPlace.u8(9)
            inPlace.lengthPrefixed { writer in
                for byte in body { writer.u8(byte) }
            }
            inPlace.u8(10)
            var copied = BinaryWriter()
            copied.u8(9)
            copied.lengthPrefixed(body)
            copied.u8(10)
            #expect(inPlace.bytes == copied.bytes, "length \(length)")
            var reader = BinaryReader(inPlace.bytes[...])
            #expect(try reader.u8() == 9)
            #expect(Array(try reader.lengthPrefixed()) == body)
            #expect(try reader.u8() == 10)
        }
    }
}
