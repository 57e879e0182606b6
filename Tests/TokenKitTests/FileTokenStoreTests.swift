import Foundation
import Testing
import TokenKitTesting

@testable import TokenKit

struct FileTokenStoreConformanceTests {
    @Test(arguments: TokenStoreConformance.Check.allCases)
    func conformance(_ check: TokenStoreConformance.Check) async throws {
        let directory = TemporaryDirectory()
        try await TokenStoreConformance(
            makeStore: { try FileTokenStore(path: directory.file("tokens")) },
            openSecondHandle: { _ in try FileTokenStore(path: directory.file("tokens")) }
        ).run(check)
    }

    /// The same checks against a store compacted after every few writes.
    @Test(arguments: TokenStoreConformance.Check.allCases)
    func conformanceWhileCompacting(_ check: TokenStoreConformance.Check) async throws {
        let directory = TemporaryDirectory()
        let options = FileTokenStore.Options(compactionThreshold: 1)
        try await TokenStoreConformance(
            makeStore: { try FileTokenStore(path: directory.file("tokens"), options: options) },
            openSecondHandle: { _ in try FileTokenStore(path: directory.file("tokens"), options: options) }
        ).run(check)
    }
}

struct FileTokenStoreTests {
    let directory = TemporaryDirectory()
    var path: String { directory.file("tokens.tkstore") }

    func manager(_ store: FileTokenStore, clock: ManualClock = ManualClock()) -> TokenManager {
        TokenManager(store: store, configuration: .init(clock: clock))
    }

    @Test func createsAPrivateFileWithAHeader() throws {
        _ = try FileTokenStore(path: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try contents(of: path) == StoreFileFormat.Header.empty.encoded())
        let lockAttributes = try FileManager.default.attributesOfItem(atPath: path + ".lock")
        #expect((lockAttributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func everyChangeSurvivesAReopen() async throws {
        let clock = ManualClock()
        var secrets: [String: String] = [:]
        do {
            let manager = manager(try FileTokenStore(path: path), clock: clock)
            for name in ["a", "b", "c", "d"] {
                secrets[name] = try await manager.create(owner: "alice", name: name, scopes: ["read"]).secret
            }
            try await manager.rename(owner: "alice", name: "a", to: "renamed")
            try await manager.revoke(owner: "alice", name: "b")
            let c = try #require(try await manager.list(owner: "alice").first { $0.name == "c" })
            try await manager.delete(id: c.id)
            _ = try await manager.validate(secrets["d"]!)
            try await manager.flushUsage()
        }
        let reopened = try FileTokenStore(path: path)
        #expect(reopened.openReport.recordsLoaded == 3)
        #expect(reopened.openReport.discardedTailBytes == 0)
        let manager = manager(reopened, clock: clock)
        #expect(try await manager.validate(secrets["a"]!).record?.name == "renamed")
        #expect(try await manager.validate(secrets["b"]!) == .rejected(.revoked))
        #expect(try await manager.validate(secrets["c"]!) == .rejected(.unknown))
        let d = try #require(try await manager.validate(secrets["d"]!).record)
        #expect(d.lastUsedAt == clock.now())
        #expect(d.scopes == ["read"])
    }

    @Test func recordsRoundTripExactly() async throws {
        let record = TokenRecord(
            id: .random(),
            owner: "ünïcode owner",
            name: "name",
            createdAt: Date(timeIntervalSinceReferenceDate: 12_345.678_9),
            expiresAt: Date(timeIntervalSinceReferenceDate: 99_999.1),
            scopes: ["a", "b:c", "d.e"],
            allowedNetworks: [try IPNetwork(parsing: "192.0.2.0/24"), try IPNetwork(parsing: "2001:db8::/48")],
            lastUsedAt: Date(timeIntervalSinceReferenceDate: 50_000.5),
            revokedAt: Date(timeIntervalSinceReferenceDate: 60_000.25),
            digest: SHA256Hasher().digest(of: "x")
        )
        try await FileTokenStore(path: path).insert(record, maximumLiveTokensPerOwner: nil)
        #expect(try FileTokenStore(path: path).record(id: record.id) == record)
    }

    @Test func onlyDigestsAreWritten() async throws {
        let issued = try await manager(try FileTokenStore(path: path)).create(owner: "alice", name: "a")
        let bytes = try contents(of: path)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains(issued.secret))
        #expect(!text.contains(String(issued.secret.dropFirst(3).prefix(16))))
    }

    @Test func refusesAFileOthersCanRead() throws {
        _ = try FileTokenStore(path: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect {
            try FileTokenStore(path: path)
        } throws: { error in
            let error = error as? TokenKitError
            return error?.code == .insecurePermissions && error?.message.contains("chmod 600") == true
        }
        _ = try FileTokenStore(path: path, options: .init(allowInsecurePermissions: true))
    }

    @Test func refusesAFileThatIsNotAStore() throws {
        try write(Array("hello, this is not a token store at all".utf8), to: path)
        #expect {
            try FileTokenStore(path: path)
        } throws: { ($0 as? TokenKitError)?.code == .storeCorrupted }
        #expect(try contents(of: path) == Array("hello, this is not a token store at all".utf8))
    }

    @Test func aHeldLockEndsInAClearError() async throws {
        let store = try FileTokenStore(path: path, options: .init(lockTimeout: .milliseconds(200)))
        let holder = try POSIXFile(openingExisting: path + ".lock")
        #expect(try holder.tryLock())
        let error = await tokenKitError { try await store.insert(.fixture(), maximumLiveTokensPerOwner: nil) }
        #expect(error?.code == .storeLocked)
        #expect(error?.message.contains("lock") == true)
        holder.unlock()
        try await store.insert(.fixture(), maximumLiveTokensPerOwner: nil)
        #expect(try store.count == 1)
    }

    @Test func concurrentWritersShareCommits() async throws {
        let store = try FileTokenStore(path: path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask { try await store.insert(.fixture(name: "t\(index)"), maximumLiveTokensPerOwner: nil) }
            }
            try await group.waitForAll()
        }
        let commits = store.commitCount
        #expect(try store.count == 200)
        #expect(commits < 200)
        #expect(try FileTokenStore(path: path).count == 200)
    }

    @Test func compactionShrinksTheFileAndKeepsEveryRecord() async throws {
        let store = try FileTokenStore(path: path, options: .init(compactionThreshold: 50))
        let records = (0..<20).map { TokenRecord.fixture(name: "t\($0)") }
        for record in records { try await store.insert(record, maximumLiveTokensPerOwner: nil) }
        for round in 0..<10 {
            for record in records {
                _ = try await store.changeLimits(
                    .init(scopes: ["round\(round)"]),
                    owner: "alice",
                    name: record.name,
                    now: .now
                )
            }
        }
        try await store.waitUntilIdle()
        let size = try contents(of: path).count
        let entries = store.logEntryCount
        #expect(entries < 120)
        #expect(size < 220 * 120)
        let reopened = try FileTokenStore(path: path)
        for record in records {
            #expect(try reopened.record(id: record.id)?.scopes == ["round9"])
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".compacting"))
    }

    @Test func twoInstancesSeeEachOthersChanges() async throws {
        let clock = ManualClock()
        let first = manager(try FileTokenStore(path: path), clock: clock)
        let second = manager(try FileTokenStore(path: path), clock: clock)
        let issued = try await first.create(owner: "alice", name: "shared")
        #expect(try await second.validate(issued.secret).record?.id == issued.record.id)
        let duplicate = await tokenKitError { _ = try await second.create(owner: "alice", name: "shared") }
        #expect(duplicate?.code == .duplicateName)
        try await second.revoke(owner: "alice", name: "shared")
        #expect(try await first.validate(issued.secret) == .rejected(.revoked))
    }

    @Test func anotherInstanceFollowsACompaction() async throws {
        let compacting = try FileTokenStore(path: path, options: .init(compactionThreshold: 10))
        let follower = try FileTokenStore(path: path)
        let records = (0..<10).map { TokenRecord.fixture(name: "t\($0)") }
        for record in records { try await compacting.insert(record, maximumLiveTokensPerOwner: nil) }
        #expect(try follower.count == 10)
        for scopes: Set<String> in [["x"], ["y"]] {
            for record in records {
                _ = try await compacting.changeLimits(
                    .init(scopes: scopes),
                    owner: "alice",
                    name: record.name,
                    now: .now
                )
            }
        }
        try await compacting.waitUntilIdle()
        #expect(compacting.logEntryCount < 30)
        for record in records {
            #expect(try follower.record(id: record.id)?.scopes == ["y"])
        }
        let late = TokenRecord.fixture(name: "late")
        try await follower.insert(late, maximumLiveTokensPerOwner: nil)
        #expect(try compacting.record(id: late.id) == late)
    }
}
