import CSystemSupport
import Crypto
import Foundation
import JourneyCore
import Synchronization
import Testing

@testable import JourneyStorage

extension GzipFileWriter {
    /// Writes `json` (one row, without its newline) as the next row.
    fileprivate func appendRow(_ json: [UInt8]) throws {
        rowBuffer.raw(json)
        try endRow()
    }
}

/// The compressed files a snapshot is made of: table files as a series of bounded gzip members
/// (ISA-L) that any gzip reader — here the system zlib — reads as one stream, and the zstd
/// recovery checkpoint.
@Suite struct SnapshotFileFormatTests {
    static func directory() -> String {
        let path = NSTemporaryDirectory() + "journeyd-fileformat-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func contents(_ path: String) -> [UInt8] {
        [UInt8](FileManager.default.contents(atPath: path)!)
    }

    /// Every decompressed byte our reader returns for the file.
    static func readBack(_ path: String) throws -> [UInt8] {
        try drain(GzipFileReader(path: path).nextChunk)
    }

    /// Every touchpoint row of the stitcher's snapshot, in row order.
    static func touchpointRows(_ stitcher: Stitcher) -> [[UInt8]] {
        let rows = SnapshotRows(stitcher)
        var list = JSONRowList()
        for part in rows.touchpointParts(rowsPerPart: .max) { rows.writeTouchpoints(in: part, into: &list) }
        return list.rows
    }

    /// Every chunk a reader's `nextChunk` returns, joined.
    static func drain(_ nextChunk: () throws -> ArraySlice<UInt8>?) rethrows -> [UInt8] {
        var out: [UInt8] = []
        while let chunk = try nextChunk() { out.append(contentsOf: chunk) }
        return out
    }

    static func rows(_ count: Int, seed: UInt64) -> [[UInt8]] {
        GzipFixtures.textBytes(count * 80, seed: seed).split(separator: UInt8(ascii: "\n")).prefix(count).map(Array.init)
    }

    @Test func largeTableIsSeveralMembersThatZlibReadsAsOneStream() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let rows = Self.rows(60_000, seed: 7)
        let writer = try GzipFileWriter(directory: directory, name: "t.jsonl.gz")
        for row in rows { try writer.appendRow(row) }
        let written = try writer.finish()
        let expected = rows.flatMap { $0 + [UInt8(ascii: "\n")] }
        #expect(expected.count > 3 * GzipMembers.targetMemberBytes)
        #expect(written.rows == rows.count)

        let file = Self.contents(directory + "/t.jsonl.gz")
        #expect(written.bytes == file.count)
        // More than one gzip header (1f 8b 08) in the file: it really is several members.
        let headers = (0..<(file.count - 2)).filter { file[$0] == 0x1F && file[$0 + 1] == 0x8B && file[$0 + 2] == 0x08 }
        #expect(headers.count >= 3)
        // An independent decoder (zlib) and ours agree with what was written.
        #expect(try Gzip.decompress(file, maxOutputBytes: 1 << 30) == expected)
        #expect(try Self.readBack(directory + "/t.jsonl.gz") == expected)
    }

    @Test func rowLargerThanAMemberIsSplitAndReadsBackWhole() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let huge = GzipFixtures.randomBytes(GzipMembers.maxMemberBytes + 12_345, seed: 3).map { $0 == 0x0A ? 0x20 : $0 }
        let writer = try GzipFileWriter(directory: directory, name: "t.jsonl.gz")
        try writer.appendRow(Array("{\"small\":1}".utf8))
        try writer.appendRow(huge)
        try writer.appendRow(Array("{\"small\":2}".utf8))
        #expect(try writer.finish().rows == 3)
        let expected = Array("{\"small\":1}\n".utf8) + huge + [0x0A] + Array("{\"small\":2}\n".utf8)
        #expect(try Self.readBack(directory + "/t.jsonl.gz") == expected)
        #expect(try Gzip.decompress(Self.contents(directory + "/t.jsonl.gz"), maxOutputBytes: 1 << 30) == expected)
    }

    /// The file sink stages bytes into aligned blocks for `O_DIRECT` and pads the last one, then
    /// cuts the file back; buffered (where a file system has no `O_DIRECT`) it writes them as
    /// they are. Either way the file holds exactly the bytes given, and the digest is theirs, for
    /// lengths off block boundaries and across several flushes of the 8 MiB staging buffer.
    @Test(arguments: [true, false])
    func fileSinkWritesExactlyTheBytesGivenWithOrWithoutThePageCache(bypassingPageCache: Bool) throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Bytes that differ with their position, so a block written in the wrong place shows.
        let pattern = [UInt8](unsafeUninitializedCapacity: 17_000_123) { buffer, count in
            for index in 0..<buffer.count { buffer[index] = UInt8(truncatingIfNeeded: index ^ (index >> 8) ^ (index >> 16)) }
            count = buffer.count
        }
        // Whether this file system takes O_DIRECT at all (tmpfs before Linux 6.6 does not); where
        // it does not, the sink must fall back rather than fail.
        let probe = try StorageFiles.openForDirectWriting(directory + "/probe")
        let directWorks = probe != nil
        if let probe { close(probe) }
        for length in [0, 1, 4095, 4096, 4097, (8 << 20) - 1, (8 << 20) + 1, pattern.count] {
            let bytes = Array(pattern[0..<length])
            let path = directory + "/sink-\(length)"
            let sink = try HashingFileSink(path: path, bypassingPageCache: bypassingPageCache)
            #expect(sink.direct == (bypassingPageCache && directWorks))
            // Uneven pieces, some larger than the staging buffer.
            let pieces = [1, 3000, 5000, 9 << 20, 100_000, 7 << 20]
            var offset = 0
            var index = 0
            while offset < length {
                let end = min(length, offset + pieces[index % pieces.count])
                index += 1
                let chunk = Array(bytes[offset..<end]) + [0xEE, 0xEE]
                try sink.write(chunk, count: end - offset)
                offset = end
            }
            let digest = try sink.finish()
            #expect(Self.contents(path) == bytes, "length \(length)")
            #expect(digest == SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
            #expect(sink.bytesWritten == length)
        }
    }

    @Test func emptyTableIsValidGzip() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let written = try GzipFileWriter(directory: directory, name: "merges.jsonl.gz").finish()
        #expect(written.rows == 0)
        #expect(written.bytes > 0)
        #expect(try Gzip.decompress(Self.contents(directory + "/merges.jsonl.gz"), maxOutputBytes: 10).isEmpty)
        #expect(try Self.readBack(directory + "/merges.jsonl.gz").isEmpty)
    }

    @Test func readerNamesTruncationCorruptionEmptyFilesAndOversizedMembers() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try GzipFileWriter(directory: directory, name: "t.jsonl.gz")
        for row in Self.rows(30_000, seed: 9) { try writer.appendRow(row) }
        _ = try writer.finish()
        let file = Self.contents(directory + "/t.jsonl.gz")

        func failure(_ bytes: [UInt8]) -> String? {
            let path = directory + "/bad.jsonl.gz"
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            do {
                _ = try Self.readBack(path)
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(failure(Array(file.prefix(file.count - 100)))?.contains("corrupt or truncated") == true)
        var flipped = file
        flipped[file.count / 2] ^= 0xFF
        #expect(failure(flipped)?.contains("not valid gzip at byte") == true)
        #expect(failure(file + [1, 2, 3])?.contains("not valid gzip at byte \(file.count)") == true)
        #expect(failure([])?.contains("empty") == true)
        // One zlib member holding more than a member may: not a file journeyd wrote.
        let single = Gzip.compress(GzipFixtures.textBytes(GzipMembers.maxMemberBytes + 1000, seed: 1), level: 1)
        #expect(failure(single)?.contains("holds more than") == true)
    }

    @Test func checkpointRoundTripsAndTruncationIsAnError() async throws {
        let (state, snapshot, stitcher) = try await SnapshotVerifierTests.writeSnapshot()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let policy = try IdentityPolicy()
        let restored = try CheckpointLoader.load(snapshotDirectory: snapshot, policy: policy, maxTouchpointsPerProfile: 10_000)
        #expect(restored.profileCount == stitcher.profileCount)
        #expect(restored.touchpointCount == stitcher.touchpointCount)
        #expect(SnapshotRows(restored).touchpointParts(rowsPerPart: 1_000) == SnapshotRows(stitcher).touchpointParts(rowsPerPart: 1_000))

        let path = snapshot + "/" + SnapshotStore.checkpointFile
        let bytes = Self.contents(path)
        for cut in [bytes.count - 1, bytes.count / 2, 0] {
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes.prefix(cut)))
            #expect(throws: (any Error).self, "checkpoint cut at \(cut) of \(bytes.count) bytes") {
                _ = try CheckpointLoader.load(snapshotDirectory: snapshot, policy: policy, maxTouchpointsPerProfile: 10_000)
            }
        }
    }

    /// Payloads over several arena blocks (one payload larger than a block) load back through the
    /// loader's threads byte for byte, and every message id is still known: sent again, each is a
    /// duplicate.
    @Test func checkpointPayloadsOverManyBlocksLoadBackIntact() async throws {
        typealias T = SnapshotVerifierTests
        let padding = String(repeating: "x", count: 4_000)
        var events = (0..<700).map { index in
            T.event("m\(index)", at: Int64(index), ids: [T.anon("a\(index % 50)")], properties: #"{"n":\#(index),"pad":"\#(padding)"}"#)
        }
        let hugePadding = String(repeating: "y", count: 3 * CheckpointRecordDecoder.payloadBlockBytes / 2)
        events.append(T.event("huge", at: 5_000, ids: [T.anon("a1")], properties: #"{"pad":"\#(hugePadding)"}"#))
        var stitcher = Stitcher(policy: try IdentityPolicy())
        #expect(stitcher.apply(events) == 0)
        let state = T.temporaryStateDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let store = SnapshotStore(stateDirectory: state)
        let (name, _) = try await SnapshotWriter(store: store, touchpointsPerPart: 1_000_000)
            .write(stitcher, walPosition: 1, createdAt: Timestamp(millisecondsSinceEpoch: T.base))
        var restored = try CheckpointLoader.load(snapshotDirectory: store.directory + "/" + name, policy: try IdentityPolicy(), maxTouchpointsPerProfile: 10_000)
        let written = Self.touchpointRows(stitcher)
        #expect(written.count == events.count)
        #expect(written.reduce(0) { $0 + $1.count } > 4 * CheckpointRecordDecoder.payloadBlockBytes)
        #expect(Self.touchpointRows(restored) == written)
        #expect(restored.apply(events) == events.count)
        #expect(restored.touchpointCount == events.count)
    }

    /// The loader's hand-off: polling an empty queue returns at once; closing releases a producer
    /// waiting for room and refuses its item; what was queued is still taken after the close.
    @Test(.timeLimit(.minutes(1))) func boundedHandoffPollsWithoutWaitingAndCloseReleasesTheProducer() async throws {
        let handoff = BoundedHandoff<Int>(capacity: 2)
        #expect(handoff.poll() == nil)
        #expect(handoff.put(0) && handoff.put(1))
        let producer = Task.detached { handoff.put(2) }
        try await Task.sleep(for: .milliseconds(20))
        handoff.close(failure: nil)
        #expect(await producer.value == false)
        #expect(handoff.poll() == 0)
        #expect(handoff.take() == 1)
        #expect(handoff.take() == nil && handoff.poll() == nil)
    }

    /// The supply's thread makes empty blocks with room for a whole arena block; after `close()`
    /// it makes no more, so what was queued is taken and then only empty arrays come.
    @Test(.timeLimit(.minutes(1))) func mappedPayloadBlocksAreEmptyWholeBlocksUntilClosed() async throws {
        let supply = MappedPayloadBlocks(capacity: 2, threadName: "test-memory")
        var block = supply.take()
        for _ in 0..<500 where block.capacity == 0 {
            try await Task.sleep(for: .milliseconds(10))
            block = supply.take()
        }
        #expect(block.isEmpty && block.capacity >= CheckpointRecordDecoder.payloadBlockBytes)
        supply.close()
        let afterClose = (0..<3).map { _ in supply.take().capacity }
        #expect(afterClose.last == 0, "blocks taken after close: \(afterClose)")
    }

    /// Every `append` is a frame of its own; the reader returns them as one stream, an empty file
    /// still holds a valid frame, and a file cut at a frame boundary, which is valid zstd, is
    /// caught by the checkpoint's footer.
    @Test func zstdFramesReadBackAsOneStreamAndACutAtAFrameBoundaryIsCaught() async throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func readBack(_ path: String) throws -> [UInt8] { try Self.drain(ZstdFileReader(path: path).nextChunk) }
        let chunks = [GzipFixtures.textBytes(3 << 20, seed: 4), [], GzipFixtures.randomBytes(70_000, seed: 5), [7]]
        let writer = try ZstdFileWriter(directory: directory, name: "f.zst")
        for chunk in chunks { try writer.append(chunk) }
        let written = try writer.finish()
        #expect(written.bytes == Self.contents(directory + "/f.zst").count)
        #expect(try readBack(directory + "/f.zst") == chunks.flatMap { $0 })
        _ = try ZstdFileWriter(directory: directory, name: "empty.zst").finish()
        #expect(try readBack(directory + "/empty.zst").isEmpty)

        let (state, snapshot, stitcher) = try await SnapshotVerifierTests.writeSnapshot()
        defer { try? FileManager.default.removeItem(atPath: state) }
        var checkpoint: [UInt8] = []
        try stitcher.writeCheckpoint { checkpoint += $0 }
        let path = snapshot + "/" + SnapshotStore.checkpointFile
        let split = try ZstdFileWriter(directory: snapshot, name: SnapshotStore.checkpointFile)
        try split.append(Array(checkpoint.dropLast(2)))
        _ = try split.finish()
        let cut = Self.contents(path)
        let policy = try IdentityPolicy()
        #expect {
            _ = try CheckpointLoader.load(snapshotDirectory: snapshot, policy: policy, maxTouchpointsPerProfile: 10_000)
        } throws: { error in
            "\(error)".contains("no footer")
        }
        let whole = try ZstdFileWriter(directory: snapshot, name: SnapshotStore.checkpointFile)
        try whole.append(Array(checkpoint.dropLast(2)))
        try whole.append(Array(checkpoint.suffix(2)))
        _ = try whole.finish()
        // The refused file was exactly the whole one cut after its first frame.
        let complete = Self.contents(path)
        #expect(complete.count > cut.count && Array(complete.prefix(cut.count)) == cut)
        #expect(try CheckpointLoader.load(snapshotDirectory: snapshot, policy: policy, maxTouchpointsPerProfile: 10_000).touchpointCount == stitcher.touchpointCount)
    }

    @Test func touchpointPartsCoverEveryRowOnceInOrder() throws {
        let stitcher = try SnapshotVerifierTests.stitcher()
        let rows = SnapshotRows(stitcher)
        let all = Self.touchpointRows(stitcher)
        #expect(all.count == stitcher.touchpointCount)
        for size in 1...(all.count + 1) {
            let parts = rows.touchpointParts(rowsPerPart: size)
            #expect(parts.count == (all.count + size - 1) / size)
            #expect(parts.dropLast().allSatisfy { $0.rows == size })
            var joined = JSONRowList()
            for part in parts { rows.writeTouchpoints(in: part, into: &joined) }
            #expect(joined.rows == all, "parts of \(size)")
        }
    }

    /// The calling thread's name as the kernel shows it (with its newline).
    static func kernelNameOfThisThread() -> String? {
        try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
    }

    /// What the kernel calls the thread `DaemonThread.start` makes with `name`.
    static func kernelName(ofThreadNamed name: String) -> String? {
        let seen = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        DaemonThread.start(name) {
            seen.withLock { $0 = kernelNameOfThisThread() }
            done.signal()
        }
        done.wait()
        return seen.withLock { $0 }
    }

    @Test func daemonThreadsAreNamedForTheKernelAndLongNamesAreCut() {
        #expect(Self.kernelName(ofThreadNamed: "wal") == "wal\n")
        #expect(Self.kernelName(ofThreadNamed: "a-name-longer-than-fifteen-bytes") == "a-name-longer-t\n")
    }

    @Test func backgroundThreadsReturnResultsInJobOrderAndRethrowTheFirstError() async throws {
        let squares = try await BackgroundThreads.run(40, threads: 3) { $0 * $0 }
        #expect(squares == (0..<40).map { $0 * $0 })
        // Snapshot threads run at idle priority; ordinary ones are left alone.
        #expect(try await BackgroundThreads.run(background: true) { journeyd_thread_is_background() } == 1)
        #expect(try await BackgroundThreads.run { journeyd_thread_is_background() } == 0)
        // The kernel knows them by name (what `top -H` shows), not by the thread that started them.
        #expect(try await BackgroundThreads.run { Self.kernelNameOfThisThread() } == "snapshot\n")
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            _ = try await BackgroundThreads.run(10, threads: 2) { index in
                if index == 4 { throw Boom() }
                return index
            }
        }
    }
}
