import Foundation

/// File-system helpers shared by the storage components: directories and files with the
/// permissions journeyd promises (group-readable, never world-readable).
enum StorageFiles {
    static func createDirectory(_ path: String) throws(StorageError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw .cannotCreateDirectory(path: path, reason: describe(error))
        }
    }

    static func createFileIfMissing(_ path: String, permissions: Int) throws(StorageError) {
        guard !FileManager.default.fileExists(atPath: path) else { return }
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: permissions]) else {
            throw .cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
    }

    static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(nsError.code)))
        }
        return nsError.localizedDescription
    }
}

/// A storage operation that failed, naming the file and the system's reason.
public enum StorageError: Error, Equatable, CustomStringConvertible {
    case cannotCreateDirectory(path: String, reason: String)
    case cannotOpen(path: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotCreateDirectory(let path, let reason): return "cannot create directory \(path): \(reason)"
        case .cannotOpen(let path, let reason): return "cannot open \(path): \(reason)"
        case .writeFailed(let path, let reason): return "cannot write \(path): \(reason)"
        }
    }
}
