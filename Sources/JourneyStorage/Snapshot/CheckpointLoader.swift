import Foundation
import JourneyCore

/// Reads a snapshot's recovery checkpoint back into a `Stitcher` on three threads: a reader thread
/// decompresses and decodes records (allocating every string and array, and copying touchpoint
/// payloads into the stitcher's arena), the calling thread applies them (hashing them into the
/// stitcher's tables), and a background thread maps the memory of the arena's next blocks in
/// the time the other two leave a core idle (`MappedPayloadBlocks`). Bounded hand-offs between
/// them keep memory flat.
public enum CheckpointLoader {
    public static func load(snapshotDirectory: String, policy: IdentityPolicy, maxTouchpointsPerProfile: Int) throws -> Stitcher {
        let path = snapshotDirectory + "/" + SnapshotStore.checkpointFile
        let handoff = BoundedHandoff<[CheckpointRecord]>(capacity: 8)
        let mappedBlocks = MappedPayloadBlocks(capacity: 16, threadName: "recovery-memory")
        DaemonThread.start("recovery") {
            defer { mappedBlocks.close() }
            handoff.close(
                failure: Result { () throws -> Void in
                    let reader = try ZstdFileReader(path: path)
                    var decoder = CheckpointRecordDecoder(newPayloadBlock: mappedBlocks.take)
                    while let chunk = try reader.nextChunk() {
                        let records = try decoder.consume(chunk)
                        if !records.isEmpty { handoff.put(records) }
                    }
                    try decoder.finish()
                }.failure)
        }
        var assembler = StitcherCheckpointAssembler(policy: policy, maxTouchpointsPerProfile: maxTouchpointsPerProfile)
        while let records = handoff.take() {
            for record in records { assembler.apply(record) }
        }
        if let failure = handoff.failure {
            if let error = failure as? BinaryDecodingError { throw SnapshotError.checkpoint(error.description) }
            throw failure
        }
        do {
            return try assembler.finish()
        } catch {
            throw SnapshotError.checkpoint(error.description)
        }
    }
}

/// A blocking queue of at most `capacity` items between one producer thread and one consumer
/// thread. The producer closes it when done (with the error that stopped it, if any); a consumer
/// that needs no more closes it to stop the producer. All state is guarded by `condition`.
final class BoundedHandoff<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Item] = []
    private let capacity: Int
    private var closed = false
    private var storedFailure: (any Error)?

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Waits for room, then enqueues; false (and the item dropped) once the queue is closed.
    @discardableResult
    func put(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !closed { condition.wait() }
        guard !closed else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Waits for an item; nil once the queue is closed and drained.
    func take() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        return removeFirstLocked()
    }

    /// The first item if one is queued, without waiting.
    func poll() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        return removeFirstLocked()
    }

    private func removeFirstLocked() -> Item? {
        guard !items.isEmpty else { return nil }
        condition.broadcast()
        return items.removeFirst()
    }

    func close(failure: (any Error)?) {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        storedFailure = failure
        condition.broadcast()
    }

    /// What stopped the producer, once the queue is closed.
    var failure: (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        return storedFailure
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
