import Foundation
import Synchronization
import Testing
import TokenKitTesting

@testable import TokenKit

/// A file store opened from the index file its last compaction wrote: it must answer exactly as
/// one that reads its whole log, whatever changed since, and whatever happened to the index file.
struct FileTokenStoreIndexFileTests {
    let directory = TemporaryDirectory()
    var path: String { directory.file("tokens") }
    static let owners = (0..<7).map { "owner\($0)" }
    /// A store date: whole microseconds.
    static let now = Date(timeIntervalSince1970: 1_800_000_100)

    /// Every answer a store gives about `records` (known now or once) and the test's owners.
    struct Answers: Equatable {
        var count: Int
        var byOwner: [[TokenRecord]]
        var byID: [TokenRecord?]
        var byDigest: [TokenRecord?]
        var expiring: [TokenRecord]
    }

    func answers(of store: FileTokenStore, about records: [TokenRecord]) async throws -> Answers {
        Answers(
            count: try store.count,
            byOwner: try Self.owners.map { try store.records(owner: $0) },
            byID: try records.map { try store.record(id: $0.id) },
            byDigest: try records.map { try store.record(forDigest: $0.digest) },
            expiring: try await store.records(expiringBetween: .distantPast, and: .distantFuture)
        )
    }

    /// The store at `path` as a handle that reads its whole log would see it.
    func wholeLogAnswers(at path: String, about records: [TokenRecord]) async throws -> Answers {
        // Salvage must see every batch, so a handle opened for it never uses the index file.
        let store = try FileTokenStore(path: path, options: .init(recovery: .salvageIntactRecords))
        #expect(!store.openReport.openedFromIndexFile)
        return try await answers(of: store, about: records)
    }

    static func record(_ number: Int, expiring: Bool = false) -> TokenRecord {
        .fixture(
            owner: owners[number % owners.count],
            name: "t\(number)",
            expiresAt: expiring ? Date(timeIntervalSince1970: 1_900_000_000 + Double(number)) : nil,
            scopes: ["scope\(number % 3)"]
        )
    }

    /// A store of `count` records over the test's owners, compacted.
    func makeCompactedStore(count: Int = 300) async throws -> (FileTokenStore, [TokenRecord]) {
        let store = try FileTokenStore(path: path)
        let records = (0..<count).map { Self.record($0, expiring: $0 % 5 == 0) }
        for record in records { try await store.insert(record, maximumLiveTokensPerOwner: nil) }
        try await store.compact()
        return (store, records)
    }

    /// The number of records a handle holds in memory.
    func recordsInMemory(_ store: FileTokenStore) -> Int { store.state.withLock { $0.index.count } }

    @Test func aCompactedStoreOpensFromItsIndexFileAndReadsOnlyWhatItNeeds() async throws {
        let (_, records) = try await makeCompactedStore()
        #expect(FileManager.default.fileExists(atPath: path + ".index"))
        let store = try FileTokenStore(path: path)
        #expect(store.openReport.openedFromIndexFile)
        #expect(store.openReport.recordsLoaded == 0)
        #expect(try store.count == records.count)
        #expect(recordsInMemory(store) == 0)

        #expect(try store.record(forDigest: records[10].digest) == records[10])
        #expect(recordsInMemory(store) == 1)
        #expect(try store.record(id: records[11].id) == records[11])
        let owner = Self.owners[3]
        let expected = records.filter { $0.owner == owner }.sorted(by: TokenStoreRules.isOlder)
        #expect(try store.records(owner: owner) == expected)
        // records[10] is the owner's: read once.
        #expect(records[10].owner == owner && recordsInMemory(store) == 1 + expected.count)
        #expect(try store.record(id: .random()) == nil)
        #expect(try store.record(forDigest: TokenRecord.fixture().digest) == nil)
        #expect(try store.records(owner: "nobody").isEmpty)
        #expect(try await answers(of: store, about: records) == wholeLogAnswers(at: path, about: records))
    }

    @Test func tokensValidateThroughAManagerOpenedFromTheIndexFile() async throws {
        var secrets: [String] = []
        do {
            let store = try FileTokenStore(path: path)
            let manager = TokenManager(store: store)
            for number in 0..<40 {
                secrets.append(try await manager.create(owner: Self.owners[number % 7], name: "t\(number)").secret)
            }
            try await store.compact()
        }
        let store = try FileTokenStore(path: path)
        #expect(store.openReport.openedFromIndexFile)
        let manager = TokenManager(store: store)
        for secret in secrets { #expect(try await manager.validate(secret).record != nil) }
        #expect(try await manager.validate(TokenFormat.default.generate()) == .rejected(.unknown))

        // A revocation by another handle, after the compaction, is seen at once.
        let other = TokenManager(store: try FileTokenStore(path: path))
        try await other.revoke(owner: Self.owners[0], name: "t0")
        #expect(try await manager.validate(secrets[0]) == .rejected(.revoked))
        let owned = try store.records(owner: Self.owners[0])
        #expect(owned.count == 6)
        #expect(owned.filter { $0.revokedAt != nil }.map(\.name) == ["t0"])
    }

    @Test func changesAfterTheCompactionHideTheSnapshotVersions() async throws {
        let (store, records) = try await makeCompactedStore()
        var known = records
        _ = try await store.rename(owner: records[1].owner, name: records[1].name, to: "renamed")
        _ = try await store.revoke(owner: records[2].owner, name: records[2].name, at: Self.now)
        _ = try await store.delete(id: records[3].id)
        _ = try await store.delete(owner: records[4].owner, name: records[4].name, now: Self.now)
        _ = try await store.changeLimits(
            .init(scopes: ["changed"]),
            owner: records[5].owner,
            name: records[5].name,
            now: Self.now
        )
        let successor = TokenSuccessor(id: .random(), digest: TokenRecord.fixture().digest, createdAt: Self.now)
        let rotation = try await store.rotate(
            owner: records[6].owner,
            name: records[6].name,
            successor: successor,
            revokingPreviousAt: Self.now + 3600
        )
        known.append(rotation.token)
        try await store.recordUse([records[7].id: Self.now])
        let added = Self.record(1000)
        try await store.insert(added, maximumLiveTokensPerOwner: nil)
        known.append(added)
        _ = try await store.revokeAll(owner: Self.owners[6], at: Self.now)

        let reopened = try FileTokenStore(path: path)
        #expect(reopened.openReport.openedFromIndexFile)
        #expect(try reopened.count == records.count)  // two deleted, one rotated in, one inserted
        #expect(try await answers(of: reopened, about: known) == wholeLogAnswers(at: path, about: known))

        // The store's rules still see the snapshot: a taken name, a taken id and a taken digest.
        let fresh = try FileTokenStore(path: path)
        let clash = TokenRecord.fixture(owner: records[22].owner, name: records[22].name)
        await #expect(throws: TokenKitError.self) { try await fresh.insert(clash, maximumLiveTokensPerOwner: nil) }
        let sameID = TokenRecord(
            id: records[30].id,
            owner: "someone",
            name: "x",
            createdAt: records[30].createdAt,
            expiresAt: nil,
            digest: TokenRecord.fixture().digest
        )
        await #expect(throws: TokenKitError.self) { try await fresh.insert(sameID, maximumLiveTokensPerOwner: nil) }
        let sameDigest = TokenRecord(
            id: .random(),
            owner: "someone",
            name: "y",
            createdAt: records[31].createdAt,
            expiresAt: nil,
            digest: records[31].digest
        )
        await #expect(throws: TokenKitError.self) { try await fresh.insert(sameDigest, maximumLiveTokensPerOwner: nil) }
        let limited = await tokenKitError {
            try await fresh.insert(Self.record(3003), maximumLiveTokensPerOwner: 10)
        }
        #expect(limited?.code == .tokenLimitReached)
    }

    @Test func randomChangesCompactionsAndReopensAgreeWithTheWholeLog() async throws {
        var generator = SystemRandomNumberGenerator()
        var store = try FileTokenStore(path: path, options: .init(compactionThreshold: 40))
        var known: [TokenRecord] = []
        var next = 0
        for step in 0..<400 {
            // `try?` is safe: a look-up that fails leaves the record out of this step's choices, and
            // the comparisons below read every record without it.
            let live = known.filter { (try? store.record(id: $0.id)) != nil }
            switch live.isEmpty ? 0 : Int.random(in: 0..<10, using: &generator) {
            case 0, 1, 2:
                let record = Self.record(next, expiring: next % 3 == 0)
                next += 1
                try await store.insert(record, maximumLiveTokensPerOwner: nil)
                known.append(record)
            case 3:
                let record = live.randomElement(using: &generator)!
                // A revoked record holds no name, so the rename may find no token; nothing else may fail.
                let failure = await tokenKitError {
                    _ = try await store.rename(owner: record.owner, name: record.name, to: "r\(next)")
                }
                #expect(failure == nil || failure?.code == .tokenNotFound)
                next += 1
            case 4:
                _ = try await store.revoke(id: live.randomElement(using: &generator)!.id, at: Self.now)
            case 5:
                _ = try await store.delete(id: live.randomElement(using: &generator)!.id)
            case 6:
                try await store.recordUse([live.randomElement(using: &generator)!.id: Self.now + Double(step)])
            case 7:
                try await store.compact()
            case 8:
                store = try FileTokenStore(path: path, options: .init(compactionThreshold: 40))
            default:
                _ = try await store.purge(before: Self.now - 1)
            }
            if step % 20 == 19 {
                let reopened = try FileTokenStore(path: path)
                let expected = try await wholeLogAnswers(at: path, about: known)
                #expect(try await answers(of: reopened, about: known) == expected, "step \(step)")
                #expect(try await answers(of: store, about: known) == expected, "step \(step)")
            }
        }
    }

    @Test func anIndexFileOfAnotherCompactionIsIgnored() async throws {
        let (store, records) = try await makeCompactedStore(count: 50)
        let oldIndex = try contents(of: path + ".index")
        let oldLog = try contents(of: path)
        _ = try await store.delete(id: records[0].id)
        try await store.compact()
        let newIndex = try contents(of: path + ".index")
        let newLog = try contents(of: path)

        // A crash between a compaction's two renames leaves the new index file beside the old log;
        // a log compacted by an older TokenKit leaves an old index file beside a new log.
        for (log, index, count) in [(oldLog, newIndex, 50), (newLog, oldIndex, 49)] {
            let copy = directory.file("copy-\(UUID().uuidString)")
            try write(log, to: copy)
            try write(index, to: copy + ".index")
            let opened = try FileTokenStore(path: copy)
            #expect(!opened.openReport.openedFromIndexFile)
            #expect(try opened.count == count)
            #expect(try await answers(of: opened, about: records) == wholeLogAnswers(at: copy, about: records))
        }
    }

    @Test func anIndexFileOthersCouldWriteIsNotTrusted() async throws {
        let (_, records) = try await makeCompactedStore(count: 20)
        let attributes = try FileManager.default.attributesOfItem(atPath: path + ".index")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o622], ofItemAtPath: path + ".index")
        let opened = try FileTokenStore(path: path)
        #expect(!opened.openReport.openedFromIndexFile)
        #expect(try await answers(of: opened, about: records) == wholeLogAnswers(at: path, about: records))
    }

    @Test func damageToTheIndexFileNeverChangesAnAnswer() async throws {
        let (_, records) = try await makeCompactedStore(count: 120)
        let index = try contents(of: path + ".index")
        let log = try contents(of: path)
        let expected = try await wholeLogAnswers(at: path, about: records)
        var generator = SystemRandomNumberGenerator()
        var damages: [[UInt8]] = (0..<150).map { _ in
            var damaged = index
            let position = Int.random(in: 0..<index.count, using: &generator)
            damaged[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
            return damaged
        }
        for cut in stride(from: 0, to: index.count, by: 997) { damages.append(Array(index[..<cut])) }
        for damaged in damages {
            let copy = directory.file("copy-\(UUID().uuidString)")
            try write(log, to: copy)
            try write(damaged, to: copy + ".index")
            let opened = try FileTokenStore(path: copy)
            #expect(try await answers(of: opened, about: records) == expected)
        }
        // Writes first, before any read: planning meets the damage and falls back as well. The
        // first two copies have every digest and id table page damaged, which only planning reads
        // (the owner's records are read through the owner table).
        let header = try #require(IndexFileFormat.Header.decode(Array(index.prefix(IndexFileFormat.pageSize))))
        var tablesDamaged = index
        for page in header.digestPage..<header.ownerPage { tablesDamaged[page * IndexFileFormat.pageSize + 9] ^= 1 }
        for damaged in [tablesDamaged, tablesDamaged] + damages.prefix(40) {
            let copy = directory.file("copy-\(UUID().uuidString)")
            try write(log, to: copy)
            try write(damaged, to: copy + ".index")
            let opened = try FileTokenStore(path: copy)
            let added = Self.record(5000)
            try await opened.insert(added, maximumLiveTokensPerOwner: nil)
            _ = try await opened.delete(id: records[7].id)
            _ = try await opened.rename(owner: records[8].owner, name: records[8].name, to: "renamed")
            let known = records + [added]
            #expect(try await answers(of: opened, about: known) == wholeLogAnswers(at: copy, about: known))
            #expect(try opened.count == records.count)
        }
    }

    @Test func compactingAStoreWithoutCommitsChangesNothing() async throws {
        let store = try FileTokenStore(path: path)
        try await store.compact()
        #expect(!FileManager.default.fileExists(atPath: path + ".index"))
        let manager = TokenManager(store: store)
        let issued = try await manager.create(owner: "alice", name: "first")
        try await store.compact()
        let reopened = try FileTokenStore(path: path)
        #expect(reopened.openReport.openedFromIndexFile)
        #expect(try await TokenManager(store: reopened).validate(issued.secret).record?.id == issued.record.id)
    }

    @Test func damageToASnapshotRecordIsCorruptionNotAnAnswer() async throws {
        let (_, records) = try await makeCompactedStore(count: 20)
        var log = try contents(of: path)
        // Inside the snapshot's first batch, past the hasher entry: some record's bytes.
        log[StoreFileFormat.headerSize + StoreFileFormat.batchHeaderSize + 200] ^= 0x10
        try write(log, to: path)
        let store = try FileTokenStore(path: path)
        #expect(store.openReport.openedFromIndexFile)
        var failures = 0
        for record in records {
            do {
                let found = try store.record(id: record.id)
                #expect(found == record)
            } catch let error as TokenKitError {
                #expect(error.code == .storeCorrupted)
                failures += 1
            }
        }
        #expect(failures > 0)
        // The handle stopped: it answers nothing from records read in part.
        #expect(throws: TokenKitError.self) { _ = try store.count }
    }

    @Test func aStoreWithoutAnIndexFileGetsOneAtItsCompaction() async throws {
        let store = try FileTokenStore(path: path)
        let records = (0..<30).map { Self.record($0) }
        for record in records { try await store.insert(record, maximumLiveTokensPerOwner: nil) }
        let before = try FileTokenStore(path: path)
        #expect(!before.openReport.openedFromIndexFile)
        #expect(before.openReport.recordsLoaded == 30)
        #expect(!FileManager.default.fileExists(atPath: path + ".index"))
        try await before.compact()
        let after = try FileTokenStore(path: path)
        #expect(after.openReport.openedFromIndexFile)
        #expect(try await answers(of: after, about: records) == wholeLogAnswers(at: path, about: records))
        // The handle that did not compact follows, still answering the same.
        #expect(try await answers(of: store, about: records) == wholeLogAnswers(at: path, about: records))
        await #expect(throws: TokenKitError.self) {
            try await FileTokenStore(path: path, options: .init(access: .readOnly)).compact()
        }
    }

    @Test func readersAreServedWhileAHandleCompactsOverAnIndexFile() async throws {
        let (store, records) = try await makeCompactedStore(count: 400)
        let expected = try await wholeLogAnswers(at: path, about: records)
        let reader = try FileTokenStore(path: path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for _ in 0..<5 { try await store.compact() }
            }
            group.addTask { () throws -> Void in
                for round in 0..<5 {
                    for (number, record) in records.enumerated() where number % 5 == round {
                        let byDigest = try store.record(forDigest: record.digest)
                        let byID = try reader.record(id: record.id)
                        #expect(byDigest == record)
                        #expect(byID == record)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await answers(of: store, about: records) == expected)
        #expect(try await answers(of: reader, about: records) == expected)
        #expect(try await answers(of: FileTokenStore(path: path), about: records) == expected)
    }

    /// Every record of the whole log, through a handle that never uses the index file.
    func wholeLogRecords(at path: String) throws -> [TokenRecord] {
        let store = try FileTokenStore(path: path, options: .init(recovery: .salvageIntactRecords))
        return try Self.owners.flatMap { try store.records(owner: $0) }
    }

    /// Whether a handle still reads its snapshot through the index file.
    func readsThroughIndexFile(_ store: FileTokenStore) -> Bool { store.state.withLock { $0.snapshot != nil } }

    @Test func expiringTokensAreSearchedOnDiskWithoutReadingTheSnapshotIntoMemory() async throws {
        let (_, records) = try await makeCompactedStore()
        let store = try FileTokenStore(path: path)
        #expect(store.openReport.openedFromIndexFile)
        // Changes since the compaction, by another handle, hide their snapshot versions.
        let other = try FileTokenStore(path: path)
        _ = try await other.revoke(owner: records[0].owner, name: records[0].name, at: Self.now)
        _ = try await other.delete(id: records[5].id)
        let expiry = Date(timeIntervalSince1970: 1_900_000_150)
        _ = try await other.changeLimits(
            .init(expiry: .at(expiry)),
            owner: records[1].owner,
            name: records[1].name,
            now: Self.now
        )
        let added = Self.record(1000, expiring: true)
        try await other.insert(added, maximumLiveTokensPerOwner: nil)

        // From just after the revocation, so that the revoked record is left out.
        let expiring = try await store.records(expiringBetween: Self.now + 1, and: .distantFuture)
        let everyRecord = try wholeLogRecords(at: path)
        let expected = everyRecord.filter { TokenStoreRules.isExpiring($0, between: Self.now + 1, and: .distantFuture) }
            .sorted(by: TokenStoreRules.expiresSooner)
        #expect(expiring == expected)
        // 60 expiring records in the snapshot, less the revoked and the deleted, plus two.
        #expect(expiring.count == 60)
        #expect(!expiring.contains { $0.id == records[0].id || $0.id == records[5].id })
        #expect(expiring.contains { $0.id == records[1].id && $0.expiresAt == expiry })
        #expect(expiring.last == added)
        // Only the tail's three records are in memory, and the handle still uses the index file.
        #expect(recordsInMemory(store) == 3)
        #expect(readsThroughIndexFile(store))

        let start = Date(timeIntervalSince1970: 1_900_000_100)
        let window = try await store.records(expiringBetween: start, and: start + 100)
        #expect(window == expected.filter { $0.expiresAt! >= start && $0.expiresAt! < start + 100 })
        #expect(window.count == 21)  // records 100, 105, … 195, and records[1]
        #expect(recordsInMemory(store) == 3)
    }

    @Test func aPurgeReadsOnlyWhatItRemovesAndKeepsTheRestOnDisk() async throws {
        let store = try FileTokenStore(path: path)
        let records = (0..<200).map { Self.record($0, expiring: $0 % 5 == 0) }
        for record in records { try await store.insert(record, maximumLiveTokensPerOwner: nil) }
        for record in records[150..<155] {
            _ = try await store.revoke(owner: record.owner, name: record.name, at: Self.now)
        }
        try await store.compact()
        let reopened = try FileTokenStore(path: path)
        #expect(reopened.openReport.openedFromIndexFile)
        // After the compaction: one more revoked, one expired record made to never expire, one
        // expired record deleted.
        let other = try FileTokenStore(path: path)
        _ = try await other.revoke(owner: records[1].owner, name: records[1].name, at: Self.now)
        _ = try await other.changeLimits(
            .init(expiry: .never),
            owner: records[0].owner,
            name: records[0].name,
            now: Self.now
        )
        _ = try await other.delete(id: records[10].id)

        // Records 0, 5, … 100 expire by the cutoff (1_900_000_000 + their number).
        let cutoff = Date(timeIntervalSince1970: 1_900_000_100)
        let expected = Set(
            try wholeLogRecords(at: path).filter { TokenStoreRules.isPurged($0, before: cutoff) }.map(\.id)
        )
        let purged = try await reopened.purge(before: cutoff)
        #expect(Set(purged.map(\.id)) == expected)
        #expect(purged.count == expected.count)
        #expect(expected.count == 25)  // 21 expired, less records 0 and 10; six revoked
        // Nothing else was read into memory: the tail's two records (one of them purged now).
        #expect(recordsInMemory(reopened) == 1)
        #expect(readsThroughIndexFile(reopened))
        #expect(try reopened.count == 200 - 1 - expected.count)
        #expect(try wholeLogRecords(at: path).allSatisfy { !TokenStoreRules.isPurged($0, before: cutoff) })
        #expect(try await answers(of: reopened, about: records) == wholeLogAnswers(at: path, about: records))
        #expect(try await reopened.purge(before: cutoff).isEmpty)
    }

    @Test func aSearchOfEveryRecordNeverAnswersFromDamage() async throws {
        let (_, records) = try await makeCompactedStore(count: 120)
        let index = try contents(of: path + ".index")
        let log = try contents(of: path)
        func copy(log: [UInt8], index: [UInt8]) throws -> FileTokenStore {
            let copy = directory.file("copy-\(UUID().uuidString)")
            try write(log, to: copy)
            try write(index, to: copy + ".index")
            return try FileTokenStore(path: copy)
        }
        let expected = try await wholeLogAnswers(at: path, about: records)
        let cutoff = Date(timeIntervalSince1970: 1_900_000_050)
        let purgeable = Set(expected.expiring.filter { $0.expiresAt! <= cutoff }.map(\.id))
        #expect(purgeable.count == 11)  // records 0, 5, … 50

        // Every page of record places damaged. The search reads the log, not them, and a purge
        // removes the records it found without reading them again.
        let header = try #require(IndexFileFormat.Header.decode(Array(index.prefix(IndexFileFormat.pageSize))))
        var damagedIndex = index
        for page in header.recordsPage..<header.digestPage { damagedIndex[page * IndexFileFormat.pageSize + 5] ^= 1 }
        let searched = try copy(log: log, index: damagedIndex)
        #expect(try await searched.records(expiringBetween: .distantPast, and: .distantFuture) == expected.expiring)
        #expect(readsThroughIndexFile(searched))
        let purged = try copy(log: log, index: damagedIndex)
        #expect(Set(try await purged.purge(before: cutoff).map(\.id)) == purgeable)
        #expect(readsThroughIndexFile(purged) && recordsInMemory(purged) == 0)

        // Damage in the log's snapshot: the search stops, and the whole log read in its place
        // reports the damage and stops the handle.
        var damagedLog = log
        damagedLog[log.count / 2] ^= 0x40
        let broken = try copy(log: damagedLog, index: index)
        let searchFailure = await tokenKitError {
            _ = try await broken.records(expiringBetween: .distantPast, and: .distantFuture)
        }
        #expect(searchFailure?.code == .storeCorrupted)
        #expect(await tokenKitError { _ = try broken.count }?.code == .storeCorrupted)
        let brokenPurge = try copy(log: damagedLog, index: index)
        #expect(await tokenKitError { _ = try await brokenPurge.purge(before: cutoff) }?.code == .storeCorrupted)
        #expect(await tokenKitError { _ = try brokenPurge.count }?.code == .storeCorrupted)
    }

    /// Records 0, 5, … 100 of `makeCompactedStore()` expire by then (1_900_000_000 + their number).
    static let purgeCutoff = Date(timeIntervalSince1970: 1_900_000_100)

    /// A compacted store, reopened from its index file, purged before ``purgeCutoff`` while another
    /// handle makes `meanwhile`'s changes between the purge's search and its commit.
    func purgeWithChanges(
        _ meanwhile: @escaping (_ other: FileTokenStore, _ records: [TokenRecord]) async throws -> Void
    ) async throws -> (store: FileTokenStore, records: [TokenRecord], purged: [TokenRecord]) {
        let (_, records) = try await makeCompactedStore()
        let store = try FileTokenStore(path: path)
        let other = try FileTokenStore(path: path)
        let purged = try await store.purge(before: Self.purgeCutoff) { try await meanwhile(other, records) }
        return (store, records, purged)
    }

    @Test func aPurgeRemovesWhatIsPurgeableWhenItCommitsNotWhenItSearched() async throws {
        let (store, records, purged) = try await purgeWithChanges { other, records in
            // After the search: one more revoked, one found deleted, one found made to never expire.
            _ = try await other.revoke(owner: records[1].owner, name: records[1].name, at: Self.now)
            _ = try await other.delete(id: records[10].id)
            _ = try await other.changeLimits(
                .init(expiry: .never),
                owner: records[0].owner,
                name: records[0].name,
                now: Self.now
            )
        }
        let removed = Set(purged.map(\.id))
        #expect(removed.count == 20 && purged.count == 20)  // 21 expired, less 0 and 10, plus 1
        #expect(removed.contains(records[1].id) && !removed.contains(records[0].id))
        #expect(try wholeLogRecords(at: path).allSatisfy { !TokenStoreRules.isPurged($0, before: Self.purgeCutoff) })
        #expect(try store.count == records.count - 1 - 20)
    }

    @Test func aPurgeWhoseSearchPredatesACompactionReadsEveryRecord() async throws {
        let (store, records, purged) = try await purgeWithChanges { other, records in
            // After the search, another process revokes a record and compacts: the new snapshot
            // holds the revocation, which no search of it found.
            _ = try await other.revoke(owner: records[1].owner, name: records[1].name, at: Self.now)
            try await other.compact()
        }
        #expect(Set(purged.map(\.id)).contains(records[1].id))
        #expect(purged.count == 22)
        #expect(try wholeLogRecords(at: path).allSatisfy { !TokenStoreRules.isPurged($0, before: Self.purgeCutoff) })
        // The handle read every record, as it must when the search no longer holds.
        #expect(recordsInMemory(store) == records.count - 22)
    }
}

/// A compacted store's snapshot was synced before it was renamed into place: damage or an end
/// inside it is corruption, never a write cut short to be discarded.
struct CompactedStoreTruncationTests {
    let directory = TemporaryDirectory()

    @Test func aSnapshotCutShortIsCorruptionNotATornWrite() async throws {
        let path = directory.file("tokens")
        let store = try FileTokenStore(path: path)
        for number in 0..<50 {
            try await store.insert(.fixture(name: "t\(number)"), maximumLiveTokensPerOwner: nil)
        }
        try await store.compact()
        let bytes = try contents(of: path)
        for cut in [bytes.count - 1, bytes.count / 2, StoreFileFormat.headerSize + 10] {
            let copy = directory.file("copy-\(cut)")
            try write(Array(bytes.prefix(cut)), to: copy)
            var count: Int?
            let failure = await tokenKitError { count = try FileTokenStore(path: copy).count }
            #expect(failure?.code == .storeCorrupted, "cut at \(cut): opened with \(String(describing: count)) records")
        }
        // Damage inside the snapshot, with no commit after it, is corruption too (not a write cut
        // short, which would drop every record from the damage on).
        var damaged = bytes
        damaged[bytes.count / 2] ^= 0x40
        let copy = directory.file("copy-flipped")
        try write(damaged, to: copy)
        let failure = await tokenKitError { _ = try FileTokenStore(path: copy).count }
        #expect(failure?.code == .storeCorrupted)
        #expect(try contents(of: copy) == damaged)
        let readOnly = await tokenKitError {
            _ = try FileTokenStore(path: copy, options: .init(access: .readOnly)).count
        }
        #expect(readOnly?.code == .storeCorrupted)
    }
}
