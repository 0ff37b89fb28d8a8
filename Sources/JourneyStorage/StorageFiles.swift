import CSystemSupport
import Foundation

/// File-system helpers shared by the storage components: directories and files with the
/// permissions journeyd promises (group-readable, never world-readable).
enum StorageFiles {
    /// Creates the directory (and parents) with mode 0750 whatever the process umask.
    static func createDirectory(_ path: String) throws(StorageError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw .cannotCreateDirectory(path: path, reason: systemErrorDescription(error))
        }
        _ = chmod(path, 0o750)
    }

    /// Opens (creating or truncating) a file for writing with mode 0640 whatever the umask, so the
    /// daemon's group can read it and nobody else can.
    static func openForWriting(_ path: String, flags: Int32 = O_TRUNC) throws(StorageError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0o640)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        _ = fchmod(fd, 0o640)
        return fd
    }

    /// As `openForWriting` (truncating), with writes that bypass the page cache (`O_DIRECT`: whole
    /// blocks from aligned buffers only). Nil where the file system or platform cannot do that.
    static func openForDirectWriting(_ path: String) throws(StorageError) -> Int32? {
        let fd = journeyd_open_direct_for_writing(path, 0o640)
        guard fd >= 0 else {
            if errno == EINVAL { return nil }
            throw .cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        _ = fchmod(fd, 0o640)
        return fd
    }

    static func createFileIfMissing(_ path: String, permissions: Int) throws(StorageError) {
        guard !FileManager.default.fileExists(atPath: path) else { return }
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: permissions]) else {
            throw .cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
    }

}

/// The operating system's words for a file error from Foundation ("No such file or directory",
/// "Permission denied"), for messages an operator can act on.
public func systemErrorDescription(_ error: any Error) -> String {
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError {
        return String(cString: strerror(Int32(underlying.code)))
    }
    if nsError.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(nsError.code)))
    }
    return nsError.localizedDescription
}

/// A storage operation that failed, naming the file and the system's reason.
public enum StorageError: Error, Equatable, CustomStringConvertible {
    case cannotCreateDirectory(path: String, reason: String)
    case cannotOpen(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case readFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotCreateDirectory(let path, let reason): return "cannot create directory \(path): \(reason)"
        case .cannotOpen(let path, let reason): return "cannot open \(path): \(reason)"
        case .writeFailed(let path, let reason): return "cannot write \(path): \(reason)"
        case .readFailed(let path, let reason): return "cannot read \(path): \(reason)"
        }
    }
}

extension StorageFiles {
    /// Writes a small file so that it is either wholly there or not at all: temp file, fsync,
    /// rename over the target, fsync the directory. Mode 0640.
    static func writeDurably(_ bytes: [UInt8], to path: String) throws(StorageError) {
        let temporary = path + ".tmp"
        let fd = try openForWriting(temporary)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                throw .writeFailed(path: temporary, reason: reason)
            }
            written += result
        }
        guard fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .writeFailed(path: temporary, reason: reason)
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        try syncDirectory((path as NSString).deletingLastPathComponent)
    }

    static func syncDirectory(_ path: String) throws(StorageError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
    }
}
