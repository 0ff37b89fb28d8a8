import JourneyCore

/// Empty payload blocks (`PayloadArena`) whose pages are already mapped, made ahead by a
/// background thread for a single consumer — the checkpoint loader's decoding thread, or the
/// ingest engine's stitcher — so the first write to each page, a page fault in which the kernel
/// (on a VM, the host too) finds and zeroes a page, is not taken on that consumer's thread. On
/// this project's 2-core VM such faults were the largest single cost of a checkpoint load and,
/// during a snapshot, 5 % of ingest's CPU on the single writer (docs/BENCHMARKS.md, session 14).
///
/// The consumer never waits: `take()` hands out a mapped block if one is ready and an empty
/// array (a block to be faulted in as it fills) otherwise. The thread runs at idle priority and
/// keeps at most `capacity` blocks; it ends when `close()` is called or the object is released.
/// Thread-safe: `take()` and `close()` may be called from any thread.
public final class MappedPayloadBlocks: Sendable {
    private let blocks: BoundedHandoff<[UInt8]>

    /// Starts the mapping thread, named `threadName` for `top -H` and `perf`.
    public init(capacity: Int, threadName: String) {
        let blocks = BoundedHandoff<[UInt8]>(capacity: capacity)
        self.blocks = blocks
        DaemonThread.start(threadName, background: true) {
            while blocks.put(Self.mappedBlock()) {}
        }
    }

    deinit {
        blocks.close(failure: nil)
    }

    /// A mapped empty block if one is ready, else an empty array.
    @Sendable public func take() -> [UInt8] {
        blocks.poll() ?? []
    }

    /// Stops the thread; later `take()`s answer with what is still queued, then empty arrays.
    public func close() {
        blocks.close(failure: nil)
    }

    /// An empty block with room for `PayloadArena.blockSize` bytes, written once here so that the
    /// kernel faults its pages in on this thread. (Page faults take only their own VMA's lock;
    /// `MADV_POPULATE_WRITE` holds the process's mmap lock for the whole block and stalled the
    /// other threads' heap growth behind it.)
    static func mappedBlock() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: CheckpointRecordDecoder.payloadBlockBytes) { buffer, count in
            buffer.initialize(repeating: 0)
            count = 0
        }
    }
}
