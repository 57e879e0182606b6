import Synchronization

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A page of the store's `.lock` file, mapped into every process that has the store open.
///
/// It holds two numbers. The change counter, which a writer increments after each commit or
/// compaction is on stable storage: a reader compares it with the value it last saw, and equal
/// means nothing changed, so a look-up needs no system call. And the durable sequence: the
/// sequence number of the last group known to be on stable storage. A reader applies no group
/// beyond it, so nobody sees a change before it is durable (a failed commit is cut off by its own
/// writer). The page is not synced: after a power loss it may be stale or zero, so a process that
/// holds the writers' lock and finds complete groups beyond it (a process opening the store, or
/// the next writer) syncs the file and publishes its last complete group.
///
/// Not `Sendable`: `FileTokenStore` keeps it inside its state lock, so within a process every read
/// and write of the page happens under that lock. Between processes, writes come only from the
/// holder of the store's exclusive file lock.
final class SharedPage {
    static let size = 4096
    private static let counterOffset = 8
    private static let durableSequenceOffset = 16

    private let base: UnsafeMutableRawPointer

    /// Maps the first page of `file`, growing the file to a page first if it is shorter.
    init(file: POSIXFile) throws(TokenKitError) {
        if try file.status().size < Self.size {
            try file.truncate(to: Self.size)
        }
        let address = mmap(nil, Self.size, PROT_READ | PROT_WRITE, MAP_SHARED, file.descriptor, 0)
        guard let address, address != MAP_FAILED else { throw POSIXFile.failure("map", file.path) }
        base = address
    }

    deinit {
        munmap(base, Self.size)
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
