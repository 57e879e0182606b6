import CTokenKitFileStatus

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A thin, throwing wrapper over a POSIX file descriptor: the only place `FileTokenStore` calls the
/// C library for files, so every failure becomes a ``TokenKitError`` with the path and the system's
/// reason. The descriptor closes when the last reference goes, so a writer holding a reference can
/// finish its write even if the store has meanwhile switched to a compacted file.
final class POSIXFile: Sendable {
    let descriptor: Int32
    let path: String

    /// Opens `path` for reading and writing, creating it with mode 0600 when absent.
    convenience init(openingOrCreating path: String) throws(TokenKitError) {
        try self.init(path, flags: O_CREAT, operation: "open")
    }

    /// Opens an existing `path` for reading and writing.
    convenience init(openingExisting path: String) throws(TokenKitError) {
        try self.init(path, flags: 0, operation: "open")
    }

    /// Creates `path` afresh (truncating it) with mode 0600.
    convenience init(creatingFresh path: String) throws(TokenKitError) {
        try self.init(path, flags: O_CREAT | O_TRUNC, operation: "create")
    }

    /// Opens an existing `path` for reading only.
    convenience init(readingExisting path: String) throws(TokenKitError) {
        try self.init(path, flags: 0, operation: "open", access: O_RDONLY)
    }

    private init(_ path: String, flags: Int32, operation: String, access: Int32 = O_RDWR) throws(TokenKitError) {
        let descriptor = open(path, access | O_CLOEXEC | flags, 0o600)
        guard descriptor >= 0 else { throw Self.failure(operation, path) }
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        close(descriptor)
    }

    /// The file's identity and size.
    ///
    /// Read without the file's times (`statx` on Linux, in the C target `CTokenKitFileStatus`):
    /// since Linux 6.13, reading a file's change or modification time makes the next write to it
    /// update them at once, so the next `fdatasync` must also commit the file system's journal
    /// (measured on ext4: 130 µs instead of 90 µs for a commit into space the file has).
    struct Status: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int
        var mode: UInt32
        var isRegularFile: Bool
    }

    /// The open file's status. It never reads the file's times: see ``Status``.
    func status() throws(TokenKitError) -> Status {
        var info = tokenkit_file_status()
        guard tokenkit_file_status_of_descriptor(descriptor, &info) == 0 else { throw Self.failure("stat", path) }
        return Status(info)
    }

    /// The status of whatever file `path` names now, or `nil` if there is none.
    static func status(atPath path: String) -> Status? {
        var info = tokenkit_file_status()
        guard tokenkit_file_status_at_path(path, &info) == 0 else { return nil }
        return Status(info)
    }

    /// Reads up to `count` bytes at `offset` into `buffer`; returns how many were read.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(TokenKitError) -> Int {
        var total = 0
        while total < buffer.count {
            let result = pread(descriptor, buffer.baseAddress! + total, buffer.count - total, off_t(offset + total))
            if result == 0 { break }
            if result < 0 {
                if errno == EINTR { continue }
                throw Self.failure("read", path)
            }
            total += result
        }
        return total
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(TokenKitError) {
        var total = 0
        while total < bytes.count {
            let result = pwrite(descriptor, bytes.baseAddress! + total, bytes.count - total, off_t(offset + total))
            if result < 0 {
                if errno == EINTR { continue }
                throw Self.failure("write", path)
            }
            total += result
        }
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: Int) throws(TokenKitError) {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(TokenKitError) in try write(buffer, at: offset) }
        }.get()
    }

    /// Reads up to `count` bytes at `offset`.
    func read(count: Int, at offset: Int) throws(TokenKitError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let read = try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(TokenKitError) in try self.read(into: buffer, at: offset) }
        }.get()
        bytes.removeLast(count - read)
        return bytes
    }

    /// Forces written data (and the size) to stable storage.
    func synchronize() throws(TokenKitError) {
        #if canImport(Darwin)
        // On Apple platforms fsync does not flush the drive's cache; F_FULLFSYNC does.
        if fcntl(descriptor, F_FULLFSYNC) == 0 { return }
        guard fsync(descriptor) == 0 else { throw Self.failure("fsync", path) }
        #else
        guard fdatasync(descriptor) == 0 else { throw Self.failure("fdatasync", path) }
        #endif
    }

    func truncate(to length: Int) throws(TokenKitError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw Self.failure("truncate", path) }
    }

    /// Tries once to take the exclusive advisory lock; `false` when another holder has it.
    func tryLock() throws(TokenKitError) -> Bool {
        while true {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
            switch errno {
            case EWOULDBLOCK: return false
            case EINTR: continue
            default: throw Self.failure("lock", path)
            }
        }
    }

    func unlock() {
        _ = flock(descriptor, LOCK_UN)
    }

    /// Makes a rename or creation in `directory` durable.
    static func synchronizeDirectory(_ directory: String) throws(TokenKitError) {
        let descriptor = open(directory, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open directory", directory) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("fsync directory", directory) }
    }

    /// Renames `source` over `destination`, atomically.
    static func move(_ source: String, to destination: String) throws(TokenKitError) {
        guard rename(source, destination) == 0 else { throw failure("rename", source) }
    }

    /// Links `source` at `destination` unless `destination` exists; `false` when it does.
    static func linkIfAbsent(_ source: String, at destination: String) throws(TokenKitError) -> Bool {
        if link(source, destination) == 0 { return true }
        if errno == EEXIST { return false }
        throw failure("link", destination)
    }

    static func remove(_ path: String) {
        _ = unlink(path)
    }

    /// Deletes `path`, which must exist.
    static func removeExisting(_ path: String) throws(TokenKitError) {
        guard unlink(path) == 0 else { throw failure("delete", path) }
    }

    /// The error for a failed system call, naming the path and the system's reason, with a code
    /// that tells a full disk, a refused permission and read-only storage from other failures.
    static func failure(_ operation: String, _ path: String) -> TokenKitError {
        let number = errno
        let reason = String(cString: strerror(number))
        return TokenKitError(
            code(forErrno: number),
            "Could not \(operation) the token store file \(quoted(path)): \(reason).",
            underlyingError: SystemCallError(operation: operation, number: number)
        )
    }
}

extension POSIXFile {
    /// The error code for a system error number.
    static func code(forErrno number: Int32) -> TokenKitError.Code {
        switch number {
        case ENOSPC, EDQUOT: .storageFull
        case EACCES, EPERM: .permissionDenied
        case EROFS: .readOnlyStorage
        default: .storageFailure
        }
    }
}

/// A failed system call: the underlying error of a storage ``TokenKitError``.
struct SystemCallError: Error, CustomStringConvertible {
    /// What was attempted, such as `"write"`.
    let operation: String
    /// The `errno` value.
    let number: Int32

    var description: String { "\(operation) failed with errno \(number) (\(String(cString: strerror(number))))" }
}

extension POSIXFile.Status {
    init(_ info: tokenkit_file_status) {
        self.init(
            device: info.device,
            inode: info.inode,
            size: Int(info.size),
            mode: info.mode,
            isRegularFile: info.mode & UInt32(S_IFMT) == UInt32(S_IFREG)
        )
    }

    /// Whether group or others may read or write the file.
    var isSharedWithOthers: Bool { mode & 0o066 != 0 }

    /// Whether `other` is the same file (not a replacement renamed over it).
    func isSameFile(as other: Self) -> Bool { device == other.device && inode == other.inode }
}
