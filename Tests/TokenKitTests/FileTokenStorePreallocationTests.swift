import Foundation
import Synchronization
import Testing
import TokenKitTesting

@testable import TokenKit

/// The log grows a chunk of zeros at a time, so that commits overwrite space the file already has.
/// Those zeros must never hide a commit, and never be taken for one.
struct FileTokenStorePreallocationTests {
    let directory = TemporaryDirectory()
    var path: String { directory.file("tokens") }

    /// A store of five single-record commits, closed.
    func makeStore() async throws -> [TokenRecord] {
        let store = try FileTokenStore(path: path)
        let records = (0..<5).map { TokenRecord.fixture(name: "t\($0)") }
        for record in records { try await store.insert(record, maximumLiveTokensPerOwner: nil) }
        return records
    }

    @Test func commitsOverwritePreallocatedZeros() async throws {
        let store = try FileTokenStore(path: path)
        try await store.insert(.fixture(name: "first"), maximumLiveTokensPerOwner: nil)
        let size = try contents(of: path).count
        #expect(size >= store.logEnd + FileTokenStore.preallocationChunk(forSize: 0))
        try await store.insert(.fixture(name: "second"), maximumLiveTokensPerOwner: nil)
        let bytes = try contents(of: path)
        #expect(bytes.count == size)
        #expect(bytes[store.logEnd...].allSatisfy { $0 == 0 })

        // Another handle reads to the last commit and appends after it, not after the zeros.
        let other = try FileTokenStore(path: path)
        #expect(try other.count == 2)
        try await other.insert(.fixture(name: "third"), maximumLiveTokensPerOwner: nil)
        #expect(try store.count == 3)
        let reopened = try FileTokenStore(path: path)
        #expect(reopened.openReport.discardedTailBytes == 0)
        #expect(try reopened.count == 3)
        #expect(try contents(of: path).count == size)
    }

    @Test func flipsInPreallocatedZerosLoseNoCommit() async throws {
        let records = try await makeStore()
        let end = try FileTokenStore(path: path).logEnd
        let bytes = try contents(of: path)
        // Every byte of the first 40 after the last commit, then 60 spread over the rest; each
        // position flips a different bit, so a failure names what to replay.
        let stride = max(1, (bytes.count - end - 40) / 60)
        let positions = Array(end..<end + 40) + (0..<60).map { end + 40 + $0 * stride }.filter { $0 < bytes.count }
        for position in positions {
            var damaged = bytes
            damaged[position] ^= UInt8(1) << UInt8(position % 8)
            let copy = directory.file("copy-\(UUID().uuidString)")
            try write(damaged, to: copy)
            let store = try FileTokenStore(path: copy)
            #expect(try store.count == 5, "flip of bit \(position % 8) at \(position)")
            for record in records { #expect(try store.record(id: record.id) == record) }
        }
    }

    @Test func zerosWhereACommitWasAreCorruptionWhenALaterCommitFollows() async throws {
        _ = try await makeStore()
        let bytes = try contents(of: path)
        // The header of the second commit, zeroed: three later commits follow it.
        let firstSize = try #require(firstBatchSize(bytes))
        let second = StoreFileFormat.headerSize + firstSize
        var damaged = bytes
        damaged.replaceSubrange(second..<second + StoreFileFormat.batchHeaderSize, with: repeatElement(0, count: 28))

        // A fresh copy (no shared page, then a new one), and the store itself (its page knows
        // five commits).
        let copy = directory.file("copy")
        try write(damaged, to: copy)
        let readOnly = FileTokenStore.Options(access: .readOnly)
        #expect(openingError { _ = try FileTokenStore(path: copy, options: readOnly) }?.code == .storeCorrupted)
        #expect(openingError { _ = try FileTokenStore(path: copy) }?.code == .storeCorrupted)
        #expect(openingError { _ = try FileTokenStore(path: copy, options: readOnly) }?.code == .storeCorrupted)
        try write(damaged, to: path)
        #expect(openingError { _ = try FileTokenStore(path: path) }?.code == .storeCorrupted)
        #expect(
            openingError { _ = try FileTokenStore(path: path, options: .init(access: .readOnly)) }?.code
                == .storeCorrupted
        )
    }

    @Test func aWriterThatDiedAppendingIsCleanedUpByTheNext() async throws {
        let records = try await makeStore()
        let store = try FileTokenStore(path: path)
        let end = store.logEnd
        // A commit cut short by a kill: its header never reached the disk, part of its payload did.
        try POSIXFile(openingExisting: path).write([UInt8](repeating: 0xA5, count: 300), at: end + 28)

        // The next commit goes where the log ends, over the zeros and part of those bytes.
        let next = TokenRecord.fixture(name: "next")
        try await store.insert(next, maximumLiveTokensPerOwner: nil)
        #expect(store.logEnd < end + 28 + 300)
        // What is left of them reads as a write cut short, after every commit.
        let copy = try FileTokenStore(path: directory.file("copy").copying(from: path))
        #expect(copy.openReport.discardedTailBytes > 0)
        #expect(try copy.count == 6)
        for record in records + [next] { #expect(try copy.record(id: record.id) == record) }
        // The writer cuts it off before its next commit, which preallocates again.
        let last = TokenRecord.fixture(name: "last")
        try await store.insert(last, maximumLiveTokensPerOwner: nil)
        let bytes = try contents(of: path)
        #expect(bytes.count > store.logEnd)
        #expect(bytes[store.logEnd...].allSatisfy { $0 == 0 })
        let reopened = try FileTokenStore(path: directory.file("again").copying(from: path))
        #expect(reopened.openReport.discardedTailBytes == 0)
        #expect(try reopened.count == 7)
    }

    @Test func readOnlyOpensRacingAWriterNeverReportDamage() async throws {
        let writer = try FileTokenStore(path: path)
        try await writer.insert(.fixture(name: "first"), maximumLiveTokensPerOwner: nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for index in 0..<200 {
                    try await writer.insert(.fixture(name: "n\(index)"), maximumLiveTokensPerOwner: nil)
                    // A compaction replaces the file under readers that opened the old one.
                    if index % 40 == 39 { try await writer.compact() }
                }
            }
            group.addTask {
                for _ in 0..<200 {
                    let reader = try FileTokenStore(path: path, options: .init(access: .readOnly))
                    #expect(try reader.count >= 1)
                }
            }
            try await group.waitForAll()
        }
        #expect(try FileTokenStore(path: path, options: .init(access: .readOnly)).count == 201)
    }

    @Test func shortZeroTailsAreTheLogsEnd() async throws {
        _ = try await makeStore()
        let end = try FileTokenStore(path: path).logEnd
        let bytes = try contents(of: path)
        for length in [1, 13, StoreFileFormat.batchHeaderSize - 1, StoreFileFormat.batchHeaderSize] {
            let copy = directory.file("copy-\(length)")
            try write(Array(bytes.prefix(end + length)), to: copy)
            let store = try FileTokenStore(path: copy)
            #expect(store.openReport.discardedTailBytes == 0, "\(length) bytes of zeros")
            #expect(try store.count == 5)
            #expect(try contents(of: copy).count == end + length)
        }
    }

    /// `/dev/full` fails every write with ENOSPC: a disk with no room for the chunk.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
    func aDiskTooFullForTheChunkLeavesTheCommitToTry() throws {
        let full = try POSIXFile(openingExisting: "/dev/full")
        // Not the commit's failure: preallocation gives up quietly, and the commit's own write
        // then reports the full disk.
        try FileTokenStore.preallocate(full, size: 0, through: 100)
        #expect(openingError { try full.write([1, 2, 3], at: 0) }?.code == .storageFull)
        // Any other failure is the commit's.
        let readOnlyPath = directory.file("read-only")
        try write([], to: readOnlyPath)
        let readOnly = try POSIXFile(readingExisting: readOnlyPath)
        let failure = openingError { try FileTokenStore.preallocate(readOnly, size: 0, through: 100) }
        #expect(failure != nil && failure?.code != .storageFull)
    }

    /// The error `body` throws, if any.
    func openingError(_ body: () throws -> Void) -> TokenKitError? {
        do {
            try body()
            return nil
        } catch {
            return error as? TokenKitError
        }
    }

    /// The size of the first batch in a store file's bytes.
    func firstBatchSize(_ bytes: [UInt8]) -> Int? {
        let start = StoreFileFormat.headerSize
        guard bytes.count >= start + 8 else { return nil }
        let length = bytes[start + 4..<start + 8].reversed().reduce(0) { $0 << 8 | Int($1) }
        return StoreFileFormat.batchHeaderSize + length
    }
}

extension String {
    /// Copies the file at `source` to this path and returns the path.
    func copying(from source: String) throws -> String {
        try TokenKitTests.write(contents(of: source), to: self)
        return self
    }
}
