import Synchronization

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A page of shared memory, mapped into every process that has the store open.
///
/// It holds two numbers. The change counter, which a writer increments after each commit or
/// compaction is on stable storage: a reader compares it with the value it last saw, and equal
/// means nothing changed, so a look-up needs no system call. And the durable sequence: the
/// sequence number of the last group known to be on stable storage. A reader applies no group
/// beyond it, so nobody sees a change before it is durable (a failed commit is cut off by its own
/// writer). The page is not synced: after a power loss or a reboot it may be stale or zero, so a
/// process that holds the writers' lock and finds complete groups beyond it (a process opening
/// the store, or the next writer) syncs the file and publishes its last complete group.
///
/// The page is a POSIX shared memory object (`/dev/shm/tk…` on Linux) named after the lock file's
/// device and inode, not the lock file itself: a mapped file that someone truncates raises SIGBUS
/// in every process that reads it, and nobody working on the store's directory can reach a shared
/// memory object. Objects stay until the machine restarts (4 KiB each).
///
/// Not `Sendable`: `FileTokenStore` keeps it inside its state lock, so within a process every read
/// and write of the page happens under that lock. Between processes, writes come only from the
/// holder of the store's exclusive file lock.
final class SharedPage {
    static let size = 4096
    private static let counterOffset = 8
    private static let durableSequenceOffset = 16

    private let base: UnsafeMutableRawPointer
    /// Whether the page is this process's own (read-only use without a shared page to read).
    let isPrivate: Bool
    /// The shared memory object's name, and its identity when mapped (to notice it removed).
    private let name: String?
    private let identity: (device: UInt64, inode: UInt64)?

    /// Maps the page of the store whose lock file is `lockFile`, creating it if needed; read-only
    /// handles map it for reading only, or, when there is none to read, a private page of zeros.
    init(lockFile: POSIXFile, readOnly: Bool) throws(TokenKitError) {
        let name = Self.name(for: try lockFile.status())
        let descriptor = shm_open(name, readOnly ? O_RDONLY : O_RDWR | O_CREAT, 0o600)
        if descriptor < 0 {
            guard readOnly else { throw POSIXFile.failure("open the shared memory \(name) of", lockFile.path) }
            base = try Self.privatePage(path: lockFile.path)
            isPrivate = true
            self.name = nil
            identity = nil
            return
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw POSIXFile.failure("stat the shared memory of", lockFile.path) }
        if Int(info.st_size) < Self.size {
            // A page shorter than its mapping would raise SIGBUS: grow it, or read a private one.
            guard !readOnly else {
                base = try Self.privatePage(path: lockFile.path)
                isPrivate = true
                self.name = nil
                identity = nil
                return
            }
            guard ftruncate(descriptor, off_t(Self.size)) == 0 else {
                throw POSIXFile.failure("size the shared memory of", lockFile.path)
            }
        }
        let protection = readOnly ? PROT_READ : PROT_READ | PROT_WRITE
        let address = mmap(nil, Self.size, protection, MAP_SHARED, descriptor, 0)
        guard let address, address != MAP_FAILED else {
            throw POSIXFile.failure("map the shared memory of", lockFile.path)
        }
        base = address
        isPrivate = false
        self.name = name
        identity = (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// Whether the shared memory object this page maps is still the one under its name. Removing
    /// it (`rm /dev/shm/tk…`, or systemd's `RemoveIPC` at a user's logout) would leave this process
    /// reading a page no new process writes; the store then stops serving.
    var isStillShared: Bool {
        guard let name, let identity else { return true }
        #if os(Linux)
        // Where glibc and musl keep shared memory objects: one `statx` instead of open, stat and
        // close (writers check before every commit).
        guard let status = POSIXFile.status(atPath: "/dev/shm" + name) else { return false }
        return status.device == identity.device && status.inode == identity.inode
        #else
        let descriptor = shm_open(name, O_RDONLY, 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        return UInt64(info.st_dev) == identity.device && UInt64(info.st_ino) == identity.inode
        #endif
    }

    /// A private page of zeros, for a read-only handle on a store without a lock file: nobody
    /// writes such a store while it is read.
    init(privateFor path: String) throws(TokenKitError) {
        base = try Self.privatePage(path: path)
        isPrivate = true
        name = nil
        identity = nil
    }

    deinit {
        munmap(base, Self.size)
    }

    /// `/tk` and the lock file's device (32 bits) and inode (64 bits) in hex: 27 characters, within
    /// every platform's limit for shared memory names.
    static func name(for status: POSIXFile.Status) -> String {
        func hex(_ value: UInt64, digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        return "/tk" + hex(status.device & 0xFFFF_FFFF, digits: 8) + hex(status.inode, digits: 16)
    }

    private static func privatePage(path: String) throws(TokenKitError) -> UnsafeMutableRawPointer {
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let address, address != MAP_FAILED else { throw POSIXFile.failure("map a private page for", path) }
        return address
    }

    /// The number of commits and compactions made to the store so far, by every process. Read it
    /// before ``durableSequence``: a reader that sees a new count then sees the sequence published
    /// with it.
    var changeCounter: UInt64 {
        let counter = base.load(fromByteOffset: Self.counterOffset, as: UInt64.self)
        atomicMemoryFence(ordering: .acquiring)
        return counter
    }

    /// The sequence number of the last group on stable storage, or 0 when not yet known.
    var durableSequence: UInt64 {
        base.load(fromByteOffset: Self.durableSequenceOffset, as: UInt64.self)
    }

    /// Publishes `sequence` as the last durable group, then counts the change; returns the new
    /// count. Call only while holding the store's lock, once the group is on stable storage.
    func publish(sequence: UInt64) -> UInt64 {
        base.storeBytes(of: sequence, toByteOffset: Self.durableSequenceOffset, as: UInt64.self)
        return countChange()
    }

    /// Counts one more change and returns the new count. Call only while holding the store's lock.
    /// Everything stored before it is visible to a reader that sees the new count.
    func countChange() -> UInt64 {
        let next = changeCounter &+ 1
        atomicMemoryFence(ordering: .releasing)
        base.storeBytes(of: next, toByteOffset: Self.counterOffset, as: UInt64.self)
        return next
    }
}
