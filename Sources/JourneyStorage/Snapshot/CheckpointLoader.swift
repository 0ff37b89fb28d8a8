import JourneyCore

/// Reads a snapshot's recovery checkpoint back into a `Stitcher`, streaming the gzip file.
public enum CheckpointLoader {
    public static func load(snapshotDirectory: String, policy: IdentityPolicy, maxTouchpointsPerProfile: Int) throws -> Stitcher {
        let reader = try GzipFileReader(path: snapshotDirectory + "/" + SnapshotStore.checkpointFile)
        var decoder = StitcherCheckpointDecoder(policy: policy, maxTouchpointsPerProfile: maxTouchpointsPerProfile)
        while let chunk = try reader.nextChunk() {
            do {
                try decoder.consume(chunk)
            } catch {
                throw SnapshotError.checkpoint(error.description)
            }
        }
        do {
            return try decoder.finish()
        } catch {
            throw SnapshotError.checkpoint(error.description)
        }
    }
}
