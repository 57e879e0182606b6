import Foundation
import Testing
import TokenKitTesting

@testable import TokenKit

/// What a damaged store must do: open with every complete commit, or fail with a typed error —
/// never crash, never drop a commit silently.
struct FileTokenStoreDamageTests {
    let directory = TemporaryDirectory()

    /// A small store of five single-record commits, with the file size after each.
    func makeStore() async throws -> (bytes: [UInt8], records: [TokenRecord], commitEnds: [Int]) {
        let path = directory.file("original")
        let store = try FileTokenStore(path: path)
        var records: [TokenRecord] = []
        var ends: [Int] = []
        for index in 0..<5 {
            let record = TokenRecord.fixture(name: "t\(index)", scopes: ["scope\(index)"])
            try await store.insert(record, maximumLiveTokensPerOwner: nil)
            records.append(record)
            ends.append(store.logEnd)
        }
        // The commits alone, without the zeros preallocated after them (tested on their own).
        return (Array(try contents(of: path).prefix(ends[4])), records, ends)
    }

    /// Writes `bytes` as a store file of its own and opens it.
    func open(_ bytes: [UInt8], options: FileTokenStore.Options = .init()) throws -> FileTokenStore {
        let path = directory.file("copy-\(UUID().uuidString)")
        try write(bytes, to: path)
        return try FileTokenStore(path: path, options: options)
    }

    @Test func tornLastCommitIsDiscardedAtEveryOffset() async throws {
        let (bytes, records, ends) = try await makeStore()
        let lastStart = ends[3]
        for cut in lastStart..<bytes.count {
            let store = try open(Array(bytes[..<cut]))
            #expect(try store.count == 4, "cut at \(cut)")
            #expect(store.openReport.discardedTailBytes == cut - lastStart, "cut at \(cut)")
            for record in records.prefix(4) {
                #expect(try store.record(id: record.id) == record)
            }
            // The repaired store takes new writes and keeps them.
            try await store.insert(.fixture(name: "after"), maximumLiveTokensPerOwner: nil)
            #expect(try FileTokenStore(path: store.path).count == 5)
        }
    }

    @Test func everyTruncationOpensWithTheCompleteCommitsOrFailsTyped() async throws {
        let (bytes, records, ends) = try await makeStore()
        for cut in 0..<bytes.count {
            let prefix = Array(bytes[..<cut])
            if cut < StoreFileFormat.headerSize {
                #expect(throws: TokenKitError.self, "cut at \(cut)") { try open(prefix) }
                continue
            }
            let store = try open(prefix)
            let complete = ends.count { $0 <= cut }
            #expect(try store.count == complete, "cut at \(cut)")
            for record in records.prefix(complete) {
                #expect(try store.record(id: record.id) == record)
            }
        }
    }

    @Test func bitFlipsFailTypedOrLoseOnlyAnUnfinishedCommit() async throws {
        let (bytes, records, ends) = try await makeStore()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var damaged = bytes
            let position = Int.random(in: 0..<bytes.count, using: &generator)
            damaged[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
            let damagedCommit = ends.firstIndex { position < $0 } ?? ends.count
            do {
                let store = try open(damaged)
                // Only damage in the last commit may be taken for a write cut short.
                #expect(position >= ends[3], "opened with a flip at \(position)")
                #expect(try store.count == 4)
                #expect(try store.record(id: records[4].id) == nil)
            } catch let error as TokenKitError {
                #expect(error.code == .storeCorrupted)
                #expect(damagedCommit < 4 || position < StoreFileFormat.headerSize)
                if position >= StoreFileFormat.headerSize {
                    #expect(error.message.contains("offset"))
                    #expect(error.message.contains("salvageIntactRecords"))
                }
            }
        }
    }

    @Test func salvageKeepsEveryIntactRecordAndTheDamagedFile() async throws {
        let (bytes, records, ends) = try await makeStore()
        var damaged = bytes
        damaged[ends[1] + 40] ^= 0xff  // inside the third commit's payload
        #expect(throws: TokenKitError.self) { try open(damaged) }
        let store = try open(damaged, options: .init(recovery: .salvageIntactRecords))
        #expect(try store.count == 4)
        #expect(try store.record(id: records[2].id) == nil)
        for index in [0, 1, 3, 4] {
            #expect(try store.record(id: records[index].id) == records[index])
        }
        let aside = try #require(store.openReport.damagedFileMovedTo)
        #expect(try contents(of: aside) == damaged)
        #expect(store.openReport.skippedDamagedBytes == ends[2] - ends[1])
        // The salvaged store is clean: it opens without recovery and takes writes.
        try await store.insert(.fixture(name: "after"), maximumLiveTokensPerOwner: nil)
        #expect(try FileTokenStore(path: store.path).count == 5)
    }

    @Test func salvageDoesNotCountPreallocatedZerosAsDamage() async throws {
        let (commits, _, ends) = try await makeStore()
        let bytes = try contents(of: directory.file("original"))
        #expect(bytes.count > commits.count && bytes[commits.count...].allSatisfy { $0 == 0 })
        var damaged = bytes
        damaged[ends[1] + 40] ^= 0xff  // inside the third commit's payload
        let store = try open(damaged, options: .init(recovery: .salvageIntactRecords))
        #expect(try store.count == 4)
        #expect(store.openReport.skippedDamagedBytes == ends[2] - ends[1])
    }

    /// A last batch whose checksum is right but whose entries do not decode was written whole, so
    /// it is not a write cut short: it used to be discarded silently as a torn tail, with every
    /// change in it. It is corruption, and salvage keeps the records before it.
    @Test func aWholeButUndecodableLastBatchIsCorruptionNotATornTail() async throws {
        let kept = TokenRecord.fixture(name: "kept")
        var bytes = StoreFileFormat.Header.empty.encoded()
        bytes += StoreFileFormat.encodeGroup([.put(kept)], sequence: 1)
        let validEnd = bytes.count
        StoreFileFormat.appendBatch([0xEE, 0x01, 0x02, 0x03], sequence: 2, part: 0, isLast: true, to: &bytes)

        #expect {
            try open(bytes)
        } throws: { error in
            let error = error as? TokenKitError
            return error?.code == .storeCorrupted && error?.message.contains("offset \(validEnd)") == true
        }
        #expect {
            try open(bytes, options: .init(access: .readOnly))
        } throws: { error in
            (error as? TokenKitError)?.code == .storeCorrupted
        }

        let salvaged = try open(bytes, options: .init(recovery: .salvageIntactRecords))
        #expect(try salvaged.record(id: kept.id) == kept)
        #expect(salvaged.openReport.damagedFileMovedTo != nil)
    }

    /// Damage followed by a whole batch of a later commit is corruption even when that batch does
    /// not decode: it proves the damaged commit had completed. It used to count for nothing, and
    /// the damaged commit and everything after it were cut off as a torn tail.
    @Test func damageBeforeAWholeButUndecodableBatchIsCorruption() async throws {
        let kept = TokenRecord.fixture(name: "kept")
        var bytes = StoreFileFormat.Header.empty.encoded()
        bytes += StoreFileFormat.encodeGroup([.put(kept)], sequence: 1)
        let damagedOffset = bytes.count
        var damaged = StoreFileFormat.encodeGroup([.put(.fixture(name: "lost"))], sequence: 2)
        damaged[damaged.count - 5] ^= 0x40
        bytes += damaged
        StoreFileFormat.appendBatch([0xEE, 0x01], sequence: 3, part: 0, isLast: true, to: &bytes)

        #expect {
            try open(bytes)
        } throws: { error in
            let error = error as? TokenKitError
            return error?.code == .storeCorrupted && error?.message.contains("offset \(damagedOffset)") == true
        }
    }

    @Test func aNewerFormatVersionIsRefusedWithAClearMessage() async throws {
        var (bytes, _, _) = try await makeStore()
        let header = StoreFileFormat.Header(snapshotEnd: 40, snapshotSequence: 0).encoded()
        bytes.replaceSubrange(0..<40, with: header)
        let newer = StoreFileFormat.version + 1
        bytes[8] = UInt8(newer)
        #expect {
            try open(bytes)
        } throws: { error in
            let message = (error as? TokenKitError)?.message ?? ""
            return message.contains("version \(newer)") && message.contains("Upgrade")
        }
    }
}
