import Crypto
import Foundation
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A certificate and its private key, PEM-encoded. Sendable value.
///
/// `certificatePEM` may hold a chain (leaf first); the fingerprint is always the first certificate's.
/// Private keys produced by ``CertificateFactory`` are P-256 ECDSA in PKCS#8 form (`BEGIN PRIVATE KEY`),
/// which NIOSSL, OpenSSL and curl all read.
public struct PEMCredential: Sendable, Hashable {
    public var certificatePEM: String
    public var privateKeyPEM: String

    public init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// SHA-256 of the (first) certificate's DER, uppercase hex pairs joined by ":" — the form
    /// `openssl x509 -noout -fingerprint -sha256` prints. Empty if `certificatePEM` holds no
    /// decodable certificate (use ``CertificateFactory/fingerprint(certificatePEM:)`` to get the error).
    public var sha256Fingerprint: String {
        (try? CertificateFactory.fingerprint(certificatePEM: certificatePEM)) ?? ""
    }

    /// The parsed (first) certificate.
    public func certificate() throws -> Certificate {
        do {
            return try Certificate(pemEncoded: certificatePEM)
        } catch {
            throw CertificateFactoryError.invalidCertificatePEM(reason: CertificateFactoryError.reason(for: error))
        }
    }

    /// The parsed private key.
    public func privateKey() throws -> Certificate.PrivateKey {
        do {
            return try Certificate.PrivateKey(pemEncoded: privateKeyPEM)
        } catch {
            throw CertificateFactoryError.invalidPrivateKeyPEM(reason: CertificateFactoryError.reason(for: error))
        }
    }

    /// Checks that both PEMs parse, that the key belongs to the certificate and that the certificate
    /// is within its validity period at `date`. Returns the parsed certificate.
    @discardableResult
    public func validate(at date: Date = Date()) throws -> Certificate {
        let certificate = try self.certificate()
        let key = try self.privateKey()
        guard key.publicKey == certificate.publicKey else {
            throw CertificateFactoryError.keyDoesNotMatchCertificate
        }
        if date < certificate.notValidBefore {
            throw CertificateFactoryError.notYetValid(notBefore: certificate.notValidBefore)
        }
        if date > certificate.notValidAfter {
            throw CertificateFactoryError.expired(notAfter: certificate.notValidAfter)
        }
        return certificate
    }

    /// Writes the certificate (mode 0644) and the private key (mode 0600). Parent directories are
    /// created as needed. Each file is written to a temporary file beside it, flushed, then renamed
    /// over the target, so a reader never sees a half-written file. The key is written first.
    public func write(certificateTo certificatePath: String, privateKeyTo privateKeyPath: String) throws {
        try PEMFileIO.writeAtomically(privateKeyPEM, to: privateKeyPath, mode: 0o600)
        try PEMFileIO.writeAtomically(certificatePEM, to: certificatePath, mode: 0o644)
    }

    /// Reads a certificate file and a private key file (no validation beyond reading: see ``validate(at:)``).
    public static func read(certificateFrom certificatePath: String, privateKeyFrom privateKeyPath: String) throws
        -> PEMCredential
    {
        PEMCredential(
            certificatePEM: try PEMFileIO.readString(at: certificatePath),
            privateKeyPEM: try PEMFileIO.readString(at: privateKeyPath)
        )
    }
}

/// Small POSIX helpers so errors name the path and the errno reason ("permission denied").
enum PEMFileIO {
    static func reason(_ code: Int32) -> String {
        guard let cString = strerror(code) else { return "error \(code)" }
        let text = String(cString: cString)
        guard let first = text.first else { return "error \(code)" }
        return first.lowercased() + text.dropFirst()
    }

    static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// `mkdir -p`, failing with the first directory that cannot be made.
    static func createDirectories(_ path: String) throws {
        if path.isEmpty || isDirectory(path) { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            if isDirectory(prefix) { continue }
            if mkdir(prefix, 0o755) != 0 {
                let code = errno
                if code == EEXIST && isDirectory(prefix) { continue }
                if code == EEXIST {
                    throw CertificateFactoryError.cannotCreateDirectory(path: prefix, reason: "a file with that name exists")
                }
                throw CertificateFactoryError.cannotCreateDirectory(path: prefix, reason: reason(code))
            }
        }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func writeAtomically(_ contents: String, to path: String, mode: mode_t) throws {
        guard !path.isEmpty else {
            throw CertificateFactoryError.cannotWrite(path: path, reason: "empty path")
        }
        if isDirectory(path) {
            throw CertificateFactoryError.cannotWrite(path: path, reason: "it is a directory")
        }
        let directory = parentDirectory(of: path)
        try createDirectories(directory)

        let name = path.split(separator: "/").last.map(String.init) ?? path
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let temporary = (directory == "/" ? "" : directory) + "/.\(name).tmp-\(suffix)"

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw CertificateFactoryError.cannotWrite(path: path, reason: reason(errno))
        }
        var closed = false
        var renamed = false
        defer {
            if !closed { _ = close(fd) }
            if !renamed { _ = unlink(temporary) }
        }
        // The umask may have narrowed `mode`; set it exactly.
        guard fchmod(fd, mode) == 0 else {
            throw CertificateFactoryError.cannotWrite(path: path, reason: reason(errno))
        }
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                posixWrite(fd, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                let code = errno
                if code == EINTR { continue }
                throw CertificateFactoryError.cannotWrite(path: path, reason: reason(code))
            }
            written += result
        }
        guard fsync(fd) == 0 else {
            throw CertificateFactoryError.cannotWrite(path: path, reason: reason(errno))
        }
        closed = true
        guard close(fd) == 0 else {
            throw CertificateFactoryError.cannotWrite(path: path, reason: reason(errno))
        }
        guard rename(temporary, path) == 0 else {
            throw CertificateFactoryError.cannotWrite(path: path, reason: reason(errno))
        }
        renamed = true
        // Make the rename durable; failure here is not worth reporting.
        let directoryFD = open(directory, O_RDONLY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            _ = close(directoryFD)
        }
    }

    static func readString(at path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CertificateFactoryError.cannotRead(path: path, reason: reason(errno))
        }
        defer { _ = close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress!, $0.count) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw CertificateFactoryError.cannotRead(path: path, reason: reason(code))
            }
            if count == 0 { break }
            result.append(contentsOf: buffer[0..<count])
            if result.count > 4 * 1024 * 1024 {
                throw CertificateFactoryError.cannotRead(path: path, reason: "file is larger than 4 MiB; not a PEM file")
            }
        }
        guard let text = String(validating: result, as: UTF8.self) else {
            throw CertificateFactoryError.cannotRead(path: path, reason: "not a text (PEM) file")
        }
        return text
    }
}

// Unambiguous names for the libc calls (Foundation's FileHandle etc. also have `write`/`read`).
@inline(__always)
private func posixWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, pointer, count)
}

@inline(__always)
private func posixRead(_ fd: Int32, _ pointer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, pointer, count)
}
