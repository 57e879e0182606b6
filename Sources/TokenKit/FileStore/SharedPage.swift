#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A page of the store's `.lock` file, mapped into every process that has the store open.
///
/// It holds one number, the change counter, which a writer increments after each commit or
/// compaction is on stable storage. A reader compares it with the value it last saw: equal means
/// nothing changed, so a look-up needs no system call. The counter is only a hint to look at the
/// file; the file itself is the truth.
///
/// Not `Sendable`: `FileTokenStore` keeps it inside its state lock, so within a process every read
/// and write of the page happens under that lock. Between processes, writes come only from the
/// holder of the store's exclusive file lock.
final class SharedPage {
    static let size = 4096
    private static let counterOffset = 8

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

    /// The number of commits and compactions made to the store so far, by every process.
    var changeCounter: UInt64 {
        base.load(fromByteOffset: Self.counterOffset, as: UInt64.self)
    }

    /// Counts one more change and returns the new count. Call only while holding the store's lock.
    func countChange() -> UInt64 {
        let next = changeCounter &+ 1
        base.storeBytes(of: next, toByteOffset: Self.counterOffset, as: UInt64.self)
        return next
    }
}
