import CJemalloc
import Foundation

/// Which allocator serves this process's `malloc`. journeyd links jemalloc: with glibc's
/// allocator, freeing a snapshot's copy of the state left the heap so fragmented that ingest spent
/// about a third more CPU per event afterwards (docs/ARCHITECTURE.md, "Memory allocator").
/// Read once at start, from the main thread.
enum ProcessAllocator {
    /// jemalloc's version ("5.3.0-0-g…") when it serves `malloc`; nil when another allocator was
    /// bound first (an `LD_PRELOAD`, or a build whose link order let glibc's `malloc` win).
    static func jemallocVersion() -> String? {
        guard let version = readVersion(), servesMalloc() else { return nil }
        return version
    }

    private static func readVersion() -> String? {
        var version: UnsafePointer<CChar>?
        var length = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &version, &length, nil, 0) == 0, let version else { return nil }
        return String(cString: version)
    }

    /// Whether a `malloc` shows up in jemalloc's count of allocated bytes. (Asking jemalloc
    /// about a pointer it does not own would crash it, so the probe is counted instead.)
    private static func servesMalloc() -> Bool {
        let probeBytes = 4 << 20
        guard let before = allocatedBytes(), let probe = malloc(probeBytes) else { return false }
        defer { free(probe) }
        // Hands the probe to the allocator, so the compiler cannot drop the unused allocation.
        guard malloc_usable_size(probe) >= probeBytes, let after = allocatedBytes() else { return false }
        return after >= before + probeBytes
    }

    /// jemalloc's `stats.allocated`, refreshed (its statistics are cached until `epoch` is written).
    private static func allocatedBytes() -> Int? {
        var newEpoch: UInt64 = 1
        var epoch: UInt64 = 0
        var epochLength = MemoryLayout<UInt64>.size
        guard mallctl("epoch", &epoch, &epochLength, &newEpoch, MemoryLayout<UInt64>.size) == 0 else { return nil }
        var allocated = 0
        var length = MemoryLayout<Int>.size
        guard mallctl("stats.allocated", &allocated, &length, nil, 0) == 0 else { return nil }
        return allocated
    }
}
