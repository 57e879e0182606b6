import Foundation
import Synchronization
import Testing
import TokenKitTesting

@testable import TokenKit

/// The file store's hasher identity and its rule that nobody sees a change before it is durable.
struct FileTokenStoreV2Tests {
    let directory = TemporaryDirectory()
    var path: String { directory.file("tokens.tkstore") }

    func manager(_ store: any TokenStore, hasher: any TokenHasher = SHA256Hasher()) -> TokenManager {
        TokenManager(store: store, configuration: .init(hasher: hasher, clock: ManualClock()))
    }

    @Test func theHasherIsRecordedInTheFileAndCheckedAtReopen() async throws {
        let peppered = HMACSHA256Hasher(key: Array("a server-side key of 32 bytes!!!".utf8))
        let issued = try await manager(try FileTokenStore(path: path), hasher: peppered)
            .create(owner: "alice", name: "a")
        let reopened = try FileTokenStore(path: path)
        let wrongKey = HMACSHA256Hasher(key: Array("another key entirely, 32 bytes!".utf8))
        let error = await tokenKitError { _ = try await manager(reopened, hasher: wrongKey).validate(issued.secret) }
        #expect(error?.code == .hasherMismatch)
        #expect(error?.message.contains(peppered.identity.keyFingerprint) == true)
        #expect(error?.message.contains(wrongKey.identity.keyFingerprint) == true)
        #expect(error?.message.contains("a server-side key") == false)
        #expect(try await manager(reopened, hasher: peppered).validate(issued.secret).record != nil)
    }

    /// A store written before hasher identities existed has none; its first use records one, and
    /// compaction keeps it.
    @Test func anOldStoreGetsItsHasherAtFirstUseAndKeepsItThroughCompaction() async throws {
        let store = try FileTokenStore(path: path, options: .init(compactionThreshold: 1))
        try await store.insert(.fixture(name: "old"), maximumLiveTokensPerOwner: nil)
        #expect(try FileTokenStore(path: path).record(id: TokenID.random()) == nil)
        let first = try FileTokenStore(path: path, options: .init(compactionThreshold: 1))
        try await manager(first).revoke(owner: "alice", name: "old")
        try await first.waitUntilIdle()
        #expect(try contents(of: path).count < 400)  // compacted
        let reopened = try FileTokenStore(path: path)
        let peppered = HMACSHA256Hasher(key: Array("a server-side key of 32 bytes!!!".utf8))
        let error = await tokenKitError { try await reopened.bindHasher(peppered.identity) }
        #expect(error?.code == .hasherMismatch)
    }

    /// A group in the file beyond the durable sequence published in the lock file — one whose
    /// process died between writing it and publishing it — is never applied by a reader without the
    /// lock; the next writer, under the lock, syncs it and publishes it, and only then is it seen.
    @Test func aGroupNotYetPublishedIsSeenOnlyOnceSyncedAndPublished() async throws {
        let writer = try FileTokenStore(path: path)
        let reader = try FileTokenStore(path: path)
        let kept = TokenRecord.fixture(name: "kept")
        try await writer.insert(kept, maximumLiveTokensPerOwner: nil)
        let sizeBefore = writer.logEnd

        let pending = TokenRecord.fixture(name: "pending")
        let unpublished = StoreFileFormat.encodeGroup([.put(pending)], sequence: writer.commitCount + 1)
        try POSIXFile(openingExisting: path).write(unpublished, at: sizeBefore)
        // Make the reader look: bump the counter without publishing the group.
        _ = try SharedPage(lockFile: POSIXFile(openingExisting: path + ".lock"), readOnly: false).countChange()
        #expect(try reader.record(forDigest: kept.digest) == kept)
        #expect(try reader.record(forDigest: pending.digest) == nil)

        let next = TokenRecord.fixture(name: "next")
        try await writer.insert(next, maximumLiveTokensPerOwner: nil)
        #expect(try reader.record(forDigest: next.digest) == next)
        #expect(try reader.record(forDigest: pending.digest) == pending)
        let names = try FileTokenStore(path: path).records(owner: "alice").map(\.name)
        #expect(names.sorted() == ["kept", "next", "pending"])
    }

    /// A write whose sync fails changes nothing anyone sees: not this handle, not another, not a
    /// reopen; the store goes on taking writes.
    @Test func aFailedSyncChangesNothingAnyoneSees() async throws {
        let writer = try FileTokenStore(path: path)
        let reader = try FileTokenStore(path: path)
        let failed = TokenRecord.fixture(name: "failed")
        writer.injectSyncFailure(TokenKitError(.storageFull, "injected: no space left"))
        let error = await tokenKitError { try await writer.insert(failed, maximumLiveTokensPerOwner: nil) }
        #expect(error?.code == .storageFull)
        #expect(try writer.record(forDigest: failed.digest) == nil)
        #expect(try reader.record(forDigest: failed.digest) == nil)
        #expect(try FileTokenStore(path: path).record(forDigest: failed.digest) == nil)
        let after = TokenRecord.fixture(name: "failed")
        try await writer.insert(after, maximumLiveTokensPerOwner: nil)
        #expect(try reader.record(forDigest: after.digest) == after)
        #expect(try FileTokenStore(path: path).records(owner: "alice") == [after])
    }

    /// The lock page is not synced: after a power loss it can name an older group than the file
    /// holds, or none. Opening must keep every complete group — their calls had returned.
    @Test func aStaleLockPageLosesNothing() async throws {
        let store = try FileTokenStore(path: path)
        let records = (0..<3).map { TokenRecord.fixture(name: "t\($0)") }
        for record in records { try await store.insert(record, maximumLiveTokensPerOwner: nil) }
        let page = try SharedPage(lockFile: POSIXFile(openingExisting: path + ".lock"), readOnly: false)
        _ = page.publish(sequence: 1)  // as if the page reached the disk two commits ago
        #expect(try FileTokenStore(path: path).count == 3)
        #expect(page.durableSequence == store.commitCount)
    }

    /// A refused write in a group with accepted ones changes nothing, and the accepted ones land.
    @Test func aGroupAnswersEachWriteOnce() async throws {
        let store = try FileTokenStore(path: path)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<40 {
                group.addTask {
                    do {
                        try await store.insert(.fixture(name: "t\(index % 20)"), maximumLiveTokensPerOwner: nil)
                        return true
                    } catch let error as TokenKitError where error.code == .duplicateName {
                        return false
                    }
                }
            }
            let outcomes = try await group.reduce(into: [Bool]()) { $0.append($1) }
            #expect(outcomes.count(where: { $0 }) == 20)
        }
        #expect(try FileTokenStore(path: path).count == 20)
    }

    /// A store of the previous format version opens with every record, and its header is marked
    /// as the current version before anything new is written, so older releases refuse it.
    @Test func aStoreAnOlderTokenKitCompactedIsMarkedAsTheCurrentVersionBeforeAWrite() async throws {
        let writer = try FileTokenStore(path: path)
        try await writer.insert(.fixture(name: "first"), maximumLiveTokensPerOwner: nil)
        // Another process compacts, as an older TokenKit that had the store open would: its file
        // says version 2.
        try await FileTokenStore(path: path).compact()
        var header = try FileTokenStore.readHeader(of: POSIXFile(openingExisting: path), path: path)
        header.version = 2
        try POSIXFile(openingExisting: path).write(header.encoded(), at: 0)

        try await writer.insert(.fixture(name: "second"), maximumLiveTokensPerOwner: nil)
        #expect(
            try FileTokenStore.readHeader(of: POSIXFile(openingExisting: path), path: path).version
                == StoreFileFormat.version
        )
        #expect(try FileTokenStore(path: path).count == 2)
    }

    @Test(arguments: [UInt32(1), 2])
    func anOlderVersionsStoreOpensAndIsMarkedAsTheCurrentVersion(_ version: UInt32) async throws {
        let record = TokenRecord.fixture(name: "old")
        do {
            let store = try FileTokenStore(path: path)
            try await store.insert(record, maximumLiveTokensPerOwner: nil)
        }
        var header = try FileTokenStore.readHeader(of: POSIXFile(openingExisting: path), path: path)
        header.version = version
        try POSIXFile(openingExisting: path).write(header.encoded(), at: 0)
        try FileManager.default.removeItem(atPath: path + ".lock")

        let reopened = try FileTokenStore(path: path)
        #expect(try reopened.record(id: record.id) == record)
        #expect(
            try FileTokenStore.readHeader(of: POSIXFile(openingExisting: path), path: path).version
                == StoreFileFormat.version
        )

        header.version = StoreFileFormat.version + 1
        try POSIXFile(openingExisting: path).write(header.encoded(), at: 0)
        let error = await tokenKitError { _ = try FileTokenStore(path: path) }
        #expect(error?.code == .storeCorrupted)
        #expect(error?.message.contains("Upgrade TokenKit") == true)
    }

    /// A compaction that fails changes nothing, is reported once by `performMaintenance()`, and
    /// does not stop writes; the store stays whole.
    @Test func aFailedCompactionIsReportedAndChangesNothing() async throws {
        let store = try FileTokenStore(path: path, options: .init(compactionThreshold: 1))
        // A directory where compaction writes its new file makes every compaction fail.
        try FileManager.default.createDirectory(atPath: path + ".compacting", withIntermediateDirectories: false)
        let manager = manager(store)
        let beforeFailing = ContinuousClock.now
        _ = try await manager.create(owner: "alice", name: "a")
        try await manager.update(owner: "alice", name: "a", scopes: ["x"])
        let failure = await tokenKitError { try await store.performMaintenance() }
        #expect(failure?.code == .storageFailure)
        #expect(failure?.message.contains("Is a directory") == true)
        #expect(failure?.underlyingError != nil)
        // Reported once; the next attempt waits out a backoff instead of following every commit.
        // (On a machine so busy that this test outlasts the 2 s backoff, the commit of
        // `performMaintenance` itself may start a second attempt, which fails too.)
        let health = store.compaction.withLock { ($0.unreported, $0.consecutiveFailures, $0.retryAfter) }
        #expect(health.1 >= 1)
        #expect(health.0 == nil || health.1 >= 2)
        // At least the first backoff (2 s) after the failure; measured from before it, so that a
        // slow, busy machine cannot outrun it.
        #expect(health.2.map { $0 >= beforeFailing + .seconds(2) } == true)
        _ = try await manager.create(owner: "alice", name: "b")
        try FileManager.default.removeItem(atPath: path + ".compacting")
        let reopened = try FileTokenStore(path: path)
        let names = try reopened.records(owner: "alice").map { "\($0.name):\($0.scopes.sorted())" }
        #expect(names.sorted() == ["a:[\"x\"]", "b:[]"])
    }

    /// Input the log format could not hold is refused with a typed error, never a trap.
    @Test func oversizeInputIsRefusedNotTrapped() async throws {
        let store = try FileTokenStore(path: path)
        let huge = String(repeating: "x", count: 70_000)
        let record = TokenRecord(
            id: .random(),
            owner: "alice",
            name: huge,
            createdAt: Date(timeIntervalSince1970: 1_800_000_000),
            expiresAt: nil,
            digest: TokenRecord.fixture().digest
        )
        let error = await tokenKitError { try await store.insert(record, maximumLiveTokensPerOwner: nil) }
        #expect(error?.code == .invalidName)
        #expect(try FileTokenStore(path: path).count == 0)
    }
}

/// `TokenStoreRules`, `TokenRecord: Codable` and `TokenKitError`.
struct StoreRulesTests {
    @Test func datesRoundTripThroughMicroseconds() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            // Past about 2270 a `Double` cannot tell every microsecond apart, so the count is
            // canonical after one conversion; the date itself always comes back exactly.
            let microseconds = Int64.random(in: 0...253_402_300_799_999_999, using: &generator)
            let date = try TokenStoreRules.date(microsecondsSince1970: microseconds)
            let canonical = try TokenStoreRules.microsecondsSince1970(date)
            #expect(abs(canonical - microseconds) <= 16)
            #expect(try TokenStoreRules.date(microsecondsSince1970: canonical) == date)
            #expect(
                try TokenStoreRules.microsecondsSince1970(TokenStoreRules.date(microsecondsSince1970: canonical))
                    == canonical
            )
            #expect(TokenStoreRules.isStorable(date))
            #expect(try TokenStoreRules.normalized(date) == date)
        }
        let now = Date()
        let normalized = try TokenStoreRules.normalized(now)
        #expect(abs(normalized.timeIntervalSince(now)) <= 0.000_001)
        #expect(try TokenStoreRules.normalized(normalized) == normalized)
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity, -1, 253_402_300_800, 1e300])
    func unstorableDatesAreRefused(_ seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(!TokenStoreRules.isStorable(date))
        #expect(throws: TokenKitError.self) { try TokenStoreRules.checkDate(date) }
        #expect(throws: TokenKitError.self) { try TokenStoreRules.normalized(date) }
        #expect(throws: TokenKitError.self) { try TokenStoreRules.microsecondsSince1970(date) }
    }

    @Test func expiryPolicyRefusesDatesPastTheRange() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        for expiry in [TokenExpiry.at(Date(timeIntervalSince1970: .infinity)), .at(Date(timeIntervalSince1970: 1e12))] {
            #expect(throws: TokenKitError(.invalidDate, "")) {
                try ExpiryPolicy.default.expiryDate(for: expiry, now: now)
            }
        }
        let latest = try ExpiryPolicy.default.expiryDate(for: .at(TokenStoreRules.dateRange.upperBound), now: now)
        #expect(latest == TokenStoreRules.dateRange.upperBound)
    }

    @Test func recordsEncodeWithStableKeysAndExactDates() throws {
        let id = TokenID.random()
        let record = TokenRecord(
            id: .random(),
            owner: "alice",
            name: "ci",
            createdAt: try TokenStoreRules.date(microsecondsSince1970: 1_800_000_000_123_456),
            expiresAt: try TokenStoreRules.date(microsecondsSince1970: 1_900_000_000_000_001),
            scopes: ["b", "a"],
            allowedNetworks: [try IPNetwork(parsing: "192.0.2.0/24"), try IPNetwork(parsing: "2001:db8::/32")],
            revokedAt: try TokenStoreRules.date(microsecondsSince1970: 1_800_000_001_000_000),
            digest: TokenRecord.fixture().digest,
            lineageID: id
        )
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601  // must not matter
        let data = try encoder.encode(record)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "id", "owner", "name", "created_at", "expires_at", "scopes", "allowed_networks", "revoked_at", "digest",
                "lineage_id",
            ]
        )
        #expect(object["created_at"] as? Int64 == 1_800_000_000_123_456)
        #expect(object["scopes"] as? [String] == ["a", "b"])
        #expect(object["lineage_id"] as? String == id.description)
        let decoded = try JSONDecoder().decode(TokenRecord.self, from: data)
        #expect(decoded == record)
        #expect(decoded.lineageID == id)

        var tampered = object
        tampered["digest"] = "not hex"
        let bad = try JSONSerialization.data(withJSONObject: tampered)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TokenRecord.self, from: bad) }
    }

    @Test func errorsCompareByCodeAndCarryTheirCause() {
        let cause = POSIXError(.ENOSPC)
        let first = TokenKitError(.storageFull, "one message", underlyingError: cause)
        let second = TokenKitError(.storageFull, "another message")
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
        #expect(first != TokenKitError(.storageFailure, "one message"))
        #expect((first.underlyingError as? POSIXError)?.code == .ENOSPC)
    }

    @Test func systemErrorsAreTold() {
        #expect(POSIXFile.code(forErrno: ENOSPC) == .storageFull)
        #expect(POSIXFile.code(forErrno: EDQUOT) == .storageFull)
        #expect(POSIXFile.code(forErrno: EACCES) == .permissionDenied)
        #expect(POSIXFile.code(forErrno: EPERM) == .permissionDenied)
        #expect(POSIXFile.code(forErrno: EROFS) == .readOnlyStorage)
        #expect(POSIXFile.code(forErrno: EIO) == .storageFailure)
    }

    @Test func everyCodeHasAnHTTPStatus() {
        let table: [(TokenKitError.Code, Int)] = [
            (.invalidName, 400), (.invalidDate, 400), (.expiryInPast, 400), (.invalidScope, 400),
            (.tokenNotFound, 404), (.duplicateName, 409), (.tokenLimitReached, 409), (.duplicateToken, 409),
            (.storageFailure, 503), (.storageFull, 503), (.readOnlyStorage, 503), (.storeLocked, 503),
            (.storeCorrupted, 503), (.contractViolation, 500), (.hasherMismatch, 500), (.invalidConfiguration, 500),
            (.permissionDenied, 500), (.insecurePermissions, 500),
        ]
        for (code, status) in table {
            #expect(code.suggestedHTTPStatus == status, "\(code)")
        }
    }
}

/// Inputs the fuzzers found (Fuzz/): each became a regression test.
struct FuzzRegressionTests {
    /// `policies`: the last microsecond count of 9999-12-31 was accepted but gave a date past
    /// `dateRange`, which no store then accepted.
    @Test func microsecondsPastTheRangeAreRefused() throws {
        #expect(throws: TokenKitError.self) { try TokenStoreRules.date(microsecondsSince1970: 253_402_300_799_999_999) }
        let last = try TokenStoreRules.date(microsecondsSince1970: 253_402_300_799_000_000)
        #expect(last == TokenStoreRules.dateRange.upperBound && TokenStoreRules.isStorable(last))
    }

    /// A lifetime under a microsecond passed `date > now`, then rounded down to `now`: a token
    /// expired at its creation. It is refused.
    @Test func aLifetimeUnderAMicrosecondIsInThePast() throws {
        let now = try TokenStoreRules.normalized(Date(timeIntervalSince1970: 1_800_000_000))
        #expect(throws: TokenKitError(.expiryInPast, "")) {
            try ExpiryPolicy.default.expiryDate(for: .after(.nanoseconds(100)), now: now)
        }
        #expect(throws: TokenKitError(.expiryInPast, "")) {
            try ExpiryPolicy.default.expiryDate(for: .at(.distantPast), now: now)
        }
    }

    /// `store-log`: an IPv6 allow-list entry in the IPv4-mapped range, which no writer produces,
    /// read back as an IPv4 network; such an entry is a malformed record.
    @Test func anIPv4MappedNetworkInAStoreFileIsMalformed() throws {
        var writer = ByteWriter()
        writer.u8(1)  // put
        writer.u64(1)
        writer.u64(2)  // id
        writer.raw([UInt8](repeating: 7, count: 32))  // digest
        writer.date(Date(timeIntervalSince1970: 1_800_000_000))
        writer.u8(0)  // no optional dates
        writer.string("alice")
        writer.string("n")
        writer.u16(0)  // scopes
        writer.u16(1)  // one network
        writer.u8(6)
        writer.u8(111)
        writer.u64(0)
        writer.u64(0x0000_FFFF_002C_0000)  // ::ffff:0.44.0.0
        let bytes = writer.bytes
        #expect(throws: ByteReader.Malformed.self) {
            try bytes.withUnsafeBytes { buffer in
                var reader = ByteReader(buffer)
                _ = try LogEntry.decode(from: &reader)
            }
        }
    }
}
