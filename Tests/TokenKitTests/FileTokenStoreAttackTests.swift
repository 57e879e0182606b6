import Foundation
import Synchronization
import Testing
import TokenKitTesting

@testable import TokenKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The defects an adversarial review found (issue 15), each with the reproduction that broke it:
/// files deleted, replaced or truncated under running handles, a crafted file that made opening
/// quadratic, a crafted log that gave one record id two owners, and read-only media.
struct FileTokenStoreAttackTests {
    let directory = TemporaryDirectory()
    var path: String { directory.file("tokens.tkstore") }

    /// A writer and a reader handle on the store, and a record the writer inserted and the reader
    /// has seen.
    func twoHandlesSharingOneRecord() async throws -> (
        writer: FileTokenStore, reader: FileTokenStore, record: TokenRecord
    ) {
        let writer = try FileTokenStore(path: path)
        let reader = try FileTokenStore(path: path)
        let record = TokenRecord.fixture(name: "before")
        try await writer.insert(record, maximumLiveTokensPerOwner: nil)
        #expect(try reader.record(forDigest: record.digest) == record)
        return (writer, reader, record)
    }

    func error(_ body: () throws -> Void) -> TokenKitError? {
        do {
            try body()
            return nil
        } catch let error as TokenKitError {
            return error
        } catch {
            return nil
        }
    }

    /// Deleting `<path>.lock` used to let a new process write beside the running ones (two
    /// writers, a corrupt store) while running readers never saw its revocations. Now a writer
    /// refuses before writing, and a reader stops within a second.
    /// Found by the store-log fuzzer: a record allowing an IPv6 range based on an IPv4-mapped
    /// address (which parsing never makes, but the type can hold) was written, and the reader,
    /// which refuses such entries, then discarded the whole compacted store as a torn tail.
    @Test func anIPv4MappedIPv6RangeIsRefusedNotWrittenUnreadable() async throws {
        let mapped = try IPNetwork(
            address: IPAddress(family: .ipv6, high: 0, low: 0x0000_ffff_0000_0000),
            prefixLength: 128
        )
        #expect(error { try TokenStoreRules.checkNetworks([mapped]) }?.code == .invalidNetwork)
        #expect(throws: Never.self) {
            try TokenStoreRules.checkNetworks([try IPNetwork(parsing: "::ffff:192.0.2.0/120")])
        }

        let store = try FileTokenStore(path: path)
        let kept = TokenRecord.fixture(owner: "alice", name: "kept")
        try await store.insert(kept, maximumLiveTokensPerOwner: nil)
        var refused = TokenRecord.fixture(owner: "alice", name: "mapped")
        refused.allowedNetworks = [mapped]
        await #expect(throws: TokenKitError.self) { try await store.insert(refused, maximumLiveTokensPerOwner: nil) }
        let change = TokenLimitsChange(allowedNetworks: [mapped])
        await #expect(throws: TokenKitError.self) {
            try await store.changeLimits(change, owner: "alice", name: "kept", now: kept.createdAt)
        }
        try await store.compact()

        let reopened = try FileTokenStore(path: path)
        #expect(reopened.openReport.discardedTailBytes == 0)
        #expect(try reopened.record(id: kept.id) == kept)
        #expect(try reopened.record(id: refused.id) == nil)
    }

    @Test func aDeletedLockFileStopsWritersAtOnceAndReadersWithinASecond() async throws {
        let (writer, reader, record) = try await twoHandlesSharingOneRecord()

        try FileManager.default.removeItem(atPath: path + ".lock")
        let newcomer = try FileTokenStore(path: path)  // a new process: a new lock file
        _ = try await newcomer.revoke(owner: "alice", name: "before", at: Date(timeIntervalSince1970: 1_800_000_001))

        let refused = await tokenKitError {
            try await writer.insert(.fixture(name: "after"), maximumLiveTokensPerOwner: nil)
        }
        #expect(refused?.code == .storeReplaced)
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(error { _ = try reader.record(forDigest: record.digest) }?.code == .storeReplaced)
        // The newcomer, the only handle on the current files, serves on.
        #expect(try newcomer.record(forDigest: record.digest)?.revokedAt != nil)
        #expect(try FileTokenStore(path: path).records(owner: "alice").map(\.name) == ["before"])
    }

    /// A published commit that this version cannot decode — written whole, checksum right — stops
    /// a reader catching up with `store_corrupted`, and stops the writer too instead of cutting it
    /// off as a torn tail (the writer, holding the lock, used to truncate the file there).
    @Test func aPublishedCommitThatCannotBeDecodedStopsReaderAndWriter() async throws {
        let (writer, reader, record) = try await twoHandlesSharingOneRecord()

        // What another process would have committed and published, if it wrote garbage whole.
        try writer.state.withLock { (state) throws(TokenKitError) in
            var batch: [UInt8] = []
            StoreFileFormat.appendBatch(
                [0xEE, 0x01],
                sequence: state.lastSequence + 1,
                part: 0,
                isLast: true,
                to: &batch
            )
            try state.file.write(batch, at: state.committedEnd)
            try state.file.synchronize()
            _ = state.shared.publish(sequence: state.lastSequence + 1)
        }
        let size = try contents(of: path).count

        let readerError = error { _ = try reader.record(forDigest: record.digest) }
        #expect(readerError?.code == .storeCorrupted)
        #expect(readerError?.message.contains("cannot read") == true)
        let writerError = await tokenKitError {
            try await writer.insert(.fixture(name: "after"), maximumLiveTokensPerOwner: nil)
        }
        #expect(writerError?.code == .storeCorrupted)
        #expect(try contents(of: path).count == size)
    }

    /// Truncating `<path>.lock` used to kill every process with the store open (SIGBUS on the
    /// mapped page). The shared page no longer lives in the lock file.
    @Test func aTruncatedLockFileCrashesNothing() async throws {
        let store = try FileTokenStore(path: path)
        let other = try FileTokenStore(path: path)
        let record = TokenRecord.fixture(name: "a")
        try await store.insert(record, maximumLiveTokensPerOwner: nil)
        try POSIXFile(openingExisting: path + ".lock").truncate(to: 0)
        #expect(try other.record(forDigest: record.digest) == record)
        let next = TokenRecord.fixture(name: "b")
        try await store.insert(next, maximumLiveTokensPerOwner: nil)
        #expect(try other.record(forDigest: next.digest) == next)
    }

    /// Removing the shared memory page (`rm /dev/shm/tk…`, systemd's RemoveIPC) would leave
    /// running handles reading a page no new process writes: they stop instead.
    @Test func aRemovedSharedPageStopsTheHandles() async throws {
        let writer = try FileTokenStore(path: path)
        let reader = try FileTokenStore(path: path)
        try await writer.insert(.fixture(name: "a"), maximumLiveTokensPerOwner: nil)
        let name = SharedPage.name(for: try POSIXFile(openingExisting: path + ".lock").status())
        #expect(shm_unlink(name) == 0)
        let refused = await tokenKitError {
            try await writer.insert(.fixture(name: "b"), maximumLiveTokensPerOwner: nil)
        }
        #expect(refused?.code == .storeReplaced)
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(error { _ = try reader.records(owner: "alice") }?.code == .storeReplaced)
        #expect(try FileTokenStore(path: path).records(owner: "alice").map(\.name) == ["a"])
    }

    /// Deleting the store file while a writer ran used to acknowledge 1,217 creates as durable and
    /// lose them all. Now the next write is refused, and readers stop within a second.
    @Test func aDeletedStoreFileRefusesWritesAndStopsReaders() async throws {
        let writer = try FileTokenStore(path: path)
        let reader = try FileTokenStore(path: path)
        try await writer.insert(.fixture(name: "a"), maximumLiveTokensPerOwner: nil)
        try FileManager.default.removeItem(atPath: path)
        let refused = await tokenKitError {
            try await writer.insert(.fixture(name: "b"), maximumLiveTokensPerOwner: nil)
        }
        #expect(refused?.code == .storeReplaced)
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(error { _ = try reader.records(owner: "alice") }?.code == .storeReplaced)
        #expect(error { _ = try writer.records(owner: "alice") }?.code == .storeReplaced)
    }

    /// Replacing the store file with an older copy (`cp` then, later, `mv`) used to lose the
    /// writes made in between without a word. Now writers refuse at once and readers stop within a
    /// second, instead of serving a copy that lacks acknowledged changes (a revocation, say).
    @Test func anOlderCopyPutInPlaceIsDetected() async throws {
        let writer = try FileTokenStore(path: path)
        let reader = try FileTokenStore(path: path)
        let token = TokenRecord.fixture(name: "leaked")
        try await writer.insert(token, maximumLiveTokensPerOwner: nil)
        try FileManager.default.copyItem(atPath: path, toPath: path + ".copy")
        _ = try await writer.revoke(owner: "alice", name: "leaked", at: Date(timeIntervalSince1970: 1_800_000_001))
        #expect(try reader.record(forDigest: token.digest)?.revokedAt != nil)
        try POSIXFile.move(path + ".copy", to: path)  // mv copy store

        let refused = await tokenKitError {
            try await writer.insert(.fixture(name: "b"), maximumLiveTokensPerOwner: nil)
        }
        #expect(refused?.code == .storeReplaced)
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(error { _ = try reader.record(forDigest: token.digest) }?.code == .storeReplaced)
    }

    /// A file damaged at its start and then full of fake batch headers used to take minutes to
    /// open (14.8 s at 1 MiB, over 120 s at 4 MiB), holding the writers' lock. The search past
    /// damage is now bounded by the file's size.
    @Test(.timeLimit(.minutes(1))) func aCraftedFileOpensInLinearTime() async throws {
        do {
            let store = try FileTokenStore(path: path)
            try await store.insert(.fixture(name: "a"), maximumLiveTokensPerOwner: nil)
            try await store.insert(.fixture(name: "b"), maximumLiveTokensPerOwner: nil)
        }
        var bytes = try contents(of: path)
        bytes[StoreFileFormat.headerSize + 30] ^= 0xFF  // damage the first group
        var fake = ByteWriter()
        fake.u32(StoreFileFormat.batchMagic)
        fake.u32(UInt32(StoreFileFormat.maximumPayload))
        fake.u64(99)
        fake.u32(0)
        fake.u32(StoreFileFormat.lastPartFlag)
        while bytes.count < 4 << 20 { bytes += fake.bytes }
        try FileManager.default.removeItem(atPath: path + ".lock")
        try write(bytes, to: path)

        #expect(error { _ = try FileTokenStore(path: path) }?.code == .storeCorrupted)
        let file = try POSIXFile(openingExisting: path)
        var scanner = LogScanner(file: file, end: bytes.count)
        #expect(throws: TokenKitError.self) {
            _ = try scanner.laterGroupExists(after: StoreFileFormat.headerSize, sequence: 1)
        }
        #expect(scanner.bytesChecked <= 2 * bytes.count + (16 << 20) + StoreFileFormat.maximumPayload + 28)
    }

    /// Fake batch headers that claim no payload cost the search little to check, one after
    /// another: it must not read a fresh 2 MiB of the file for each.
    @Test(.timeLimit(.minutes(1))) func fakeEmptyBatchesAreSearchedInOnePass() async throws {
        var bytes = StoreFileFormat.Header.empty.encoded()
        var fake = ByteWriter()
        fake.u32(StoreFileFormat.batchMagic)
        fake.u32(0)
        fake.u64(99)
        fake.u32(0)
        fake.u32(StoreFileFormat.lastPartFlag)
        fake.u32(0)  // a wrong checksum
        while bytes.count < 6 << 20 { bytes += fake.bytes }
        try write(bytes, to: path)
        let file = try POSIXFile(openingExisting: path)
        var scanner = LogScanner(file: file, end: bytes.count)
        #expect(try !scanner.laterGroupExists(after: StoreFileFormat.headerSize, sequence: 1))
        #expect(scanner.bytesRead <= 3 * bytes.count)
    }

    /// A crafted log with valid checksums that wrote one record id under two owners left the
    /// owner index stale: one owner's list showed, and could revoke, another owner's token. It is
    /// corruption, reported as such.
    @Test func oneRecordUnderTwoOwnersIsCorruption() async throws {
        let record = TokenRecord.fixture(owner: "alice", name: "shared")
        let stolen = TokenRecord(
            id: record.id,
            owner: "mallory",
            name: "shared",
            createdAt: record.createdAt,
            expiresAt: nil,
            digest: record.digest
        )
        var bytes = StoreFileFormat.Header.empty.encoded()
        bytes += StoreFileFormat.encodeGroup([.put(record)], sequence: 1)
        bytes += StoreFileFormat.encodeGroup([.put(stolen)], sequence: 2)
        try write(bytes, to: path)
        let opened = error { _ = try FileTokenStore(path: path) }
        #expect(opened?.code == .storeCorrupted)
        #expect(opened?.message.contains(record.id.description) == true)

        // The same, written by "another process" while this one has the store open.
        let other = directory.file("other.tkstore")
        try write(
            StoreFileFormat.Header.empty.encoded() + StoreFileFormat.encodeGroup([.put(record)], sequence: 1),
            to: other
        )
        let store = try FileTokenStore(path: other)
        try POSIXFile(openingExisting: other).write(
            StoreFileFormat.encodeGroup([.put(stolen)], sequence: 2),
            at: try contents(of: other).count
        )
        _ = try SharedPage(lockFile: POSIXFile(openingExisting: other + ".lock"), readOnly: false).publish(sequence: 2)
        #expect(error { _ = try store.records(owner: "mallory") }?.code == .storeCorrupted)
        #expect(error { _ = try store.records(owner: "alice") }?.code == .storeCorrupted)

        // Salvage keeps the consistent record.
        let salvaged = try FileTokenStore(path: path, options: .init(recovery: .salvageIntactRecords))
        #expect(try salvaged.records(owner: "mallory").isEmpty)
    }

    /// A validate-only use of a store on read-only media failed, because open always opened for
    /// writing. A read-only handle validates and lists, and refuses writes with a typed error.
    @Test func aReadOnlyHandleReadsAndRefusesWrites() async throws {
        let issued: IssuedToken
        do {
            let manager = TokenManager(store: try FileTokenStore(path: path))
            issued = try await manager.create(owner: "alice", name: "ci")
        }
        try FileManager.default.removeItem(atPath: path + ".lock")  // nothing may be created either
        let store = try FileTokenStore(path: path, options: .init(access: .readOnly))
        let manager = TokenManager(store: store)
        #expect(try await manager.validate(issued.secret).record?.id == issued.record.id)
        #expect(try await manager.list(owner: "alice").count == 1)
        let refused = await tokenKitError { _ = try await manager.create(owner: "alice", name: "new") }
        #expect(refused?.code == .readOnlyStorage)
        #expect(!FileManager.default.fileExists(atPath: path + ".lock"))
        let missing = error {
            _ = try FileTokenStore(path: directory.file("absent"), options: .init(access: .readOnly))
        }
        #expect(missing?.code == .storageFailure)
        #expect(!FileManager.default.fileExists(atPath: directory.file("absent")))
    }
}

/// Deleting a store for good removes its shared memory page too.
struct RemoveStoreTests {
    @Test func removingAStoreRemovesItsFilesAndItsPage() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("gone.tkstore")
        do { _ = try FileTokenStore(path: path) }
        let name = SharedPage.name(for: try POSIXFile(openingExisting: path + ".lock").status())
        let before = shm_open(name, O_RDONLY, 0)
        #expect(before >= 0)
        defer { close(before) }
        var page = stat()
        #expect(fstat(before, &page) == 0)
        try FileTokenStore.removeStore(atPath: path)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: path + ".lock"))
        // The page is gone from its name. (Tests running meanwhile may make a lock file that reuses
        // the freed inode, and so a new page under the same name: it is not this page.)
        let after = shm_open(name, O_RDONLY, 0)
        if after >= 0 {
            var other = stat()
            #expect(fstat(after, &other) == 0)
            #expect(other.st_ino != page.st_ino)
            close(after)
        }
        try FileTokenStore.removeStore(atPath: path)  // nothing left: no error
    }
}
