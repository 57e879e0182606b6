import Foundation
import TokenKit

extension TokenStoreConformance {
    /// One check's store, with assertion helpers that throw ``Failure``.
    struct Context: Sendable {
        let check: Check
        let store: any TokenStore
        /// A date with a microsecond fraction, so that a store that rounds dates fails.
        let start: Date
        /// How long a change may take to reach the other handle's look-ups by digest.
        let validationStaleness: Duration

        init(check: Check, store: any TokenStore, validationStaleness: Duration = .zero) throws {
            self.check = check
            self.store = store
            self.validationStaleness = validationStaleness
            start = try TokenStoreRules.date(microsecondsSince1970: 1_800_000_000_123_456)
        }

        /// `start` plus a number of microseconds.
        func start(plus microseconds: Int64) throws -> Date {
            try TokenStoreRules.date(microsecondsSince1970: 1_800_000_000_123_456 + microseconds)
        }

        func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw Failure(check: check, message: message()) }
        }

        /// Runs `body` and checks that it throws a ``TokenKitError`` with `code`.
        func expectError(
            _ code: TokenKitError.Code,
            _ what: String,
            _ body: () async throws -> Void
        ) async throws {
            do {
                try await body()
            } catch let error as TokenKitError {
                try expect(error.code == code, "\(what) threw \(error.code), expected \(code)")
                return
            }
            throw Failure(check: check, message: "\(what) succeeded, expected error \(code)")
        }

        func insert(_ record: TokenRecord, limit: Int? = nil) async throws {
            try await store.insert(record, maximumLiveTokensPerOwner: limit)
        }

        /// A validation's look-up by digest, as ``TokenManager`` makes it: the answer of
        /// ``TokenStore/immediateRecord(forDigest:)`` when it gives one, else that of
        /// ``TokenStore/record(forDigest:)``. Both are asked, and must agree whenever the immediate
        /// look-up answers.
        ///
        /// - Parameter exact: `false` only while waiting for another handle's change to arrive, when
        ///   a caching store may learn of it between the two calls; the answer is still the one a
        ///   validation would act on.
        func lookUp(
            through store: any TokenStore,
            _ digest: TokenDigest,
            exact: Bool = true
        ) async throws
            -> TokenRecord?
        {
            let immediate = try store.immediateRecord(forDigest: digest)
            let awaited = try await store.record(forDigest: digest)
            switch immediate {
            case .found(let record):
                try expect(
                    !exact || record == awaited,
                    "immediateRecord(forDigest:) answered \(record), record(forDigest:) \(String(describing: awaited))"
                )
                return record
            case .notFound:
                try expect(
                    !exact || awaited == nil,
                    "immediateRecord(forDigest:) found nothing, record(forDigest:) found \(String(describing: awaited))"
                )
                return nil
            case .unavailable:
                return awaited
            }
        }

        func stored(_ record: TokenRecord) async throws -> TokenRecord? {
            try await store.record(id: record.id)
        }

        /// A record at `start` plus `offset` seconds, with every optional field empty.
        func record(_ owner: String, _ name: String, offset: TimeInterval = 0) -> TokenRecord {
            .fixture(owner: owner, name: name, createdAt: start + offset)
        }

        // MARK: Look-ups and insert

        func insertAndLookUp() async throws {
            let record = TokenRecord.fixture(owner: "alice", name: "ci", expiresAt: start + 3600, scopes: ["read"])
            try await insert(record)
            try expect(
                try await lookUp(through: store, record.digest) == record,
                "record(forDigest:) did not return the inserted record"
            )
            try expect(try await stored(record) == record, "record(id:) did not return the inserted record")
            try expect(
                try await store.records(owner: "alice") == [record],
                "records(owner:) did not return the inserted record"
            )
        }

        func missingRecords() async throws {
            try await insert(.fixture(owner: "alice"))
            let absent = TokenRecord.fixture(owner: "bob")
            try expect(try await lookUp(through: store, absent.digest) == nil, "found a record for an absent digest")
            try expect(try await stored(absent) == nil, "found a record for an absent id")
            try expect(try await store.records(owner: "bob").isEmpty, "listed records for an owner with none")
        }

        func listsByOwnerOldestFirst() async throws {
            let newer = record("alice", "b", offset: 10)
            let older = record("alice", "a")
            let other = record("bob", "a", offset: 5)
            for record in [newer, other, older] { try await insert(record) }
            let listed = try await store.records(owner: "alice")
            try expect(
                listed.map(\.id) == [older.id, newer.id],
                "records(owner:) gave \(listed.map(\.name)), expected [a, b]"
            )
        }

        func nameUniquenessOnInsert() async throws {
            try await insert(.fixture(owner: "alice", name: "ci"))
            try await expectError(.duplicateName, "a second live \"ci\" for alice") {
                try await insert(.fixture(owner: "alice", name: "ci"))
            }
            try await insert(.fixture(owner: "bob", name: "ci"))
            try await insert(.fixture(owner: "alice", name: "old", revokedAt: start))
            try await insert(.fixture(owner: "alice", name: "old"))
            try expect(
                try await store.records(owner: "alice").count == 3,
                "alice should hold ci, a revoked old and a live old"
            )
        }

        func identityUniqueness() async throws {
            let record = TokenRecord.fixture(owner: "alice", name: "one")
            try await insert(record)
            let sameID = TokenRecord(
                id: record.id,
                owner: "alice",
                name: "two",
                createdAt: start,
                expiresAt: nil,
                digest: TokenRecord.fixture().digest
            )
            try await expectError(.duplicateToken, "an insert with a repeated id") { try await insert(sameID) }
            let sameDigest = TokenRecord(
                id: .random(),
                owner: "bob",
                name: "three",
                createdAt: start,
                expiresAt: nil,
                digest: record.digest
            )
            try await expectError(.duplicateToken, "an insert with a repeated digest") { try await insert(sameDigest) }
            try expect(try await store.records(owner: "bob").isEmpty, "a refused insert left a record behind")
        }

        func liveTokenCap() async throws {
            try await insert(.fixture(owner: "alice", name: "a"), limit: 2)
            try await insert(.fixture(owner: "alice", name: "expired", expiresAt: start - 1), limit: 2)
            try await insert(.fixture(owner: "alice", name: "revoked", revokedAt: start - 1), limit: 2)
            try await insert(.fixture(owner: "alice", name: "b"), limit: 2)
            try await expectError(.tokenLimitReached, "a third live token with a cap of 2") {
                try await insert(.fixture(owner: "alice", name: "c"), limit: 2)
            }
            try await insert(.fixture(owner: "bob", name: "c"), limit: 2)
            try await insert(.fixture(owner: "alice", name: "d"), limit: nil)
        }

        // MARK: By-name operations

        func rename() async throws {
            let first = record("alice", "first")
            let second = record("alice", "second", offset: 1)
            try await insert(first)
            try await insert(second)
            let renamed = try await store.rename(owner: "alice", name: "first", to: "renamed")
            try expect(renamed.id == first.id && renamed.name == "renamed", "rename did not return the renamed record")
            try expect(try await stored(first) == renamed, "record(id:) does not show the rename")
            try expect(
                try await lookUp(through: store, first.digest) == renamed,
                "record(forDigest:) does not show the rename"
            )
            try await expectError(.duplicateName, "a rename onto a live name") {
                _ = try await store.rename(owner: "alice", name: "renamed", to: "second")
            }
            try await expectError(.invalidName, "a rename to an empty name") {
                _ = try await store.rename(owner: "alice", name: "renamed", to: "")
            }
            try expect(try await stored(first)?.name == "renamed", "a refused rename was written")
            _ = try await store.revoke(owner: "alice", name: "second", at: start)
            let reused = try await store.rename(owner: "alice", name: "renamed", to: "second")
            try expect(reused.name == "second", "a revoked record's name could not be taken by a rename")
        }

        func identityIsKept() async throws {
            let original = TokenRecord(
                id: .random(),
                owner: "alice",
                name: "ci",
                createdAt: start,
                expiresAt: start + 86_400,
                digest: TokenRecord.fixture().digest
            )
            try await insert(original)
            func expectSameIdentity(_ what: String) async throws {
                guard let now = try await stored(original) else {
                    throw Failure(check: check, message: "after \(what), the record is gone")
                }
                try expect(
                    now.id == original.id && now.owner == original.owner && now.digest == original.digest
                        && now.createdAt == original.createdAt && now.lineageID == original.lineageID,
                    "\(what) changed the record's id, owner, digest, creation date or lineage"
                )
            }
            _ = try await store.rename(owner: "alice", name: "ci", to: "deploy")
            try await expectSameIdentity("rename")
            _ = try await store.changeLimits(.init(scopes: ["read"]), owner: "alice", name: "deploy", now: start)
            try await expectSameIdentity("changeLimits")
            _ = try await store.setDisabled(owner: "alice", name: "deploy", at: start, now: start)
            try await expectSameIdentity("setDisabled")
            try await store.recordUse([original.id: start + 1])
            try await expectSameIdentity("recordUse")
            _ = try await store.revoke(owner: "alice", name: "deploy", at: start + 2)
            try await expectSameIdentity("revoke")

            let foreign = TokenRecord(
                id: .random(),
                owner: "alice",
                name: "foreign",
                createdAt: start,
                expiresAt: nil,
                digest: TokenRecord.fixture().digest,
                lineageID: original.id
            )
            try await expectError(.contractViolation, "an insert that continues another token's lineage") {
                try await insert(foreign)
            }
            try expect(try await stored(foreign) == nil, "a refused insert left a record behind")
        }

        func unknownNamesAndIDs() async throws {
            try await insert(.fixture(owner: "alice", name: "held"))
            try await insert(.fixture(owner: "alice", name: "gone", revokedAt: start - 1))
            for name in ["absent", "gone"] {
                try await expectError(.tokenNotFound, "rename of \(name)") {
                    _ = try await store.rename(owner: "alice", name: name, to: "x")
                }
                try await expectError(.tokenNotFound, "revoke of \(name)") {
                    _ = try await store.revoke(owner: "alice", name: name, at: start)
                }
                try await expectError(.tokenNotFound, "setDisabled of \(name)") {
                    _ = try await store.setDisabled(owner: "alice", name: name, at: start, now: start)
                }
                try await expectError(.tokenNotFound, "changeLimits of \(name)") {
                    _ = try await store.changeLimits(.init(scopes: ["x"]), owner: "alice", name: name, now: start)
                }
                try await expectError(.tokenNotFound, "delete of \(name)") {
                    _ = try await store.delete(owner: "alice", name: name, now: start)
                }
                try await expectError(.tokenNotFound, "rotate of \(name)") {
                    _ = try await store.rotate(
                        owner: "alice",
                        name: name,
                        successor: TokenSuccessor(
                            id: .random(),
                            digest: TokenRecord.fixture().digest,
                            createdAt: start
                        ),
                        revokingPreviousAt: start
                    )
                }
            }
            try await expectError(.tokenNotFound, "a by-name operation on another owner's name") {
                _ = try await store.revoke(owner: "bob", name: "held", at: start)
            }
            try await expectError(.tokenNotFound, "delete of an unknown id") {
                _ = try await store.delete(id: .random())
            }
            try await store.recordUse([.random(): start])
        }

        func revokeByName() async throws {
            let target = record("alice", "ci")
            let other = record("alice", "other")
            for record in [target, other] { try await insert(record) }
            let change = try await store.revoke(owner: "alice", name: "ci", at: start + 5)
            try expect(
                change.token.id == target.id && change.token.revokedAt == start + 5 && change.predecessors.isEmpty,
                "revoke did not return the record revoked as of the date"
            )
            try expect(try await stored(target)?.revokedAt == start + 5, "the revocation was not stored")
            try expect(try await stored(other)?.revokedAt == nil, "revoke touched another token")
            try await insert(.fixture(owner: "alice", name: "ci"))

            let scheduled = TokenRecord.fixture(owner: "alice", name: "x")
            try await insert(scheduled)
            _ = try await store.revoke(owner: "alice", name: "x", at: start + 10)
            try expect(
                try await stored(scheduled)?.revokedAt == start + 10,
                "revoke did not store its date"
            )
        }

        func revokeByID() async throws {
            // A lineage of three: first → second → current, the first two in grace.
            try await insert(record("alice", "ci"))
            let second = try await store.rotate(
                owner: "alice",
                name: "ci",
                successor: successor(at: 1),
                revokingPreviousAt: start + 1_000
            )
            let current = try await store.rotate(
                owner: "alice",
                name: "ci",
                successor: successor(at: 2),
                revokingPreviousAt: start + 1_000
            )
            let first = second.predecessors[0]
            let middle = current.predecessors[0]
            // Revoking the middle secret (leaked, say) revokes it and the older one, not the current.
            let change = try await store.revoke(id: middle.id, at: start + 10)
            try expect(
                change.token.id == middle.id && change.predecessors.map(\.id) == [first.id],
                "revoke(id:) did not return the record and its older predecessor in grace"
            )
            try expect(try await stored(middle)?.revokedAt == start + 10, "revoke(id:) did not revoke the record")
            try expect(try await stored(first)?.revokedAt == start + 10, "revoke(id:) left an older predecessor valid")
            try expect(
                try await stored(current.token)?.revokedAt == nil,
                "revoke(id:) revoked a newer token of the lineage"
            )
            // The current token by id; an earlier revocation stays.
            _ = try await store.revoke(id: current.token.id, at: start + 20)
            try expect(try await stored(first)?.revokedAt == start + 10, "revoke(id:) moved an earlier revocation")
            try await expectError(.tokenNotFound, "revoke(id:) of an unknown id") {
                _ = try await store.revoke(id: .random(), at: start)
            }
        }

        func disableAndEnable() async throws {
            let target = record("alice", "ci")
            try await insert(target)
            let disabled = try await store.setDisabled(owner: "alice", name: "ci", at: start + 1, now: start + 1)
            try expect(disabled.token.disabledAt == start + 1, "setDisabled did not return the disabled record")
            try expect(try await stored(target)?.disabledAt == start + 1, "the disabling was not stored")
            try expect(try await stored(target)?.holdsName == true, "a disabled token lost its name")
            let enabled = try await store.setDisabled(owner: "alice", name: "ci", at: nil, now: start + 2)
            try expect(enabled.token.disabledAt == nil, "setDisabled(nil) did not enable the token")
            try expect(try await stored(target)?.disabledAt == nil, "the enabling was not stored")
        }

        func changeLimits() async throws {
            let network = try IPNetwork(parsing: "192.0.2.0/24")
            let target = TokenRecord.fixture(owner: "alice", name: "ci", expiresAt: start + 100, scopes: ["a"])
            try await insert(target)
            let scoped = try await store.changeLimits(
                .init(scopes: ["b", "c"], allowedNetworks: [network]),
                owner: "alice",
                name: "ci",
                now: start
            )
            try expect(
                scoped.token.scopes == ["b", "c"] && scoped.token.allowedNetworks == [network]
                    && scoped.token.expiresAt == start + 100,
                "changeLimits did not change scopes and networks and keep the expiry"
            )
            _ = try await store.changeLimits(.init(expiry: .at(start + 500)), owner: "alice", name: "ci", now: start)
            let dated = try await stored(target)
            try expect(
                dated?.expiresAt == start + 500 && dated?.scopes == ["b", "c"],
                "changeLimits did not change the expiry and keep the scopes"
            )
            _ = try await store.changeLimits(.init(expiry: .never, scopes: []), owner: "alice", name: "ci", now: start)
            let open = try await stored(target)
            try expect(open?.expiresAt == nil && open?.scopes == [], "changeLimits did not clear expiry and scopes")
        }

        func revokeAll() async throws {
            let a = record("alice", "a")
            let b = record("alice", "b")
            let old = TokenRecord.fixture(owner: "alice", name: "old", revokedAt: start - 100)
            let bobs = record("bob", "a")
            for record in [a, b, old, bobs] { try await insert(record) }
            // A rotated-out secret in grace must be revoked too, or a password reset leaves it valid.
            let rotated = try await store.rotate(
                owner: "alice",
                name: "b",
                successor: successor(at: 1),
                revokingPreviousAt: start + 1_000
            )
            let revoked = try await store.revokeAll(owner: "alice", at: start)
            try expect(
                Set(revoked.map(\.id)) == [a.id, b.id, rotated.token.id],
                "revokeAll changed \(revoked.map(\.name)), expected a, b and b's successor"
            )
            try expect(revoked.allSatisfy { $0.revokedAt == start }, "revokeAll did not set the revocation time")
            try expect(try await stored(old)?.revokedAt == start - 100, "revokeAll moved an earlier revocation")
            try expect(try await stored(bobs)?.revokedAt == nil, "revokeAll touched another owner")
            try expect(try await stored(b)?.revokedAt == start, "revokeAll left a rotated-out secret in grace valid")
            try await insert(.fixture(owner: "alice", name: "a"))
        }

        func delete() async throws {
            let byName = record("alice", "ci")
            let byID = TokenRecord.fixture(owner: "alice", name: "old", revokedAt: start)
            for record in [byName, byID] { try await insert(record) }
            let deleted = try await store.delete(owner: "alice", name: "ci", now: start)
            try expect(deleted.token.id == byName.id, "delete(owner:name:) did not return the deleted record")
            let removed = try await store.delete(id: byID.id)
            try expect(removed.id == byID.id, "delete(id:) did not return the deleted record")
            for record in [byName, byID] {
                try expect(try await stored(record) == nil, "a deleted record is still found by id")
                try expect(
                    try await lookUp(through: store, record.digest) == nil,
                    "a deleted record is still found by digest"
                )
            }
            try expect(try await store.records(owner: "alice").isEmpty, "a deleted record is still listed")
            try await insert(.fixture(owner: "alice", name: "ci"))
        }

        func recordUse() async throws {
            let record = TokenRecord.fixture(owner: "alice", name: "ci")
            try await insert(record)
            try await store.recordUse([record.id: start + 60])
            try expect(try await stored(record)?.lastUsedAt == start + 60, "recordUse did not set lastUsedAt")
            try await store.recordUse([record.id: start + 30, .random(): start])
            try expect(try await stored(record)?.lastUsedAt == start + 60, "recordUse moved lastUsedAt back")
        }

        // MARK: Round trips and limits

        func everyFieldRoundTrips() async throws {
            let record = TokenRecord(
                id: .random(),
                owner: "ünïcode owner",
                name: "everything",
                createdAt: start,
                expiresAt: start + 86_400,
                scopes: ["a", "b:c"],
                allowedNetworks: [try IPNetwork(parsing: "192.0.2.0/24"), try IPNetwork(parsing: "2001:db8::/48")],
                lastUsedAt: start + 10,
                revokedAt: start + 3_600,
                disabledAt: start + 5,
                digest: TokenRecord.fixture().digest
            )
            try await insert(record)
            try expect(try await stored(record) == record, "a record with every field set changed in the store")
        }

        func subSecondDatesRoundTrip() async throws {
            let dates = try (1...6).map { try start(plus: Int64($0) * 1_111_111) }
            let record = TokenRecord(
                id: .random(),
                owner: "alice",
                name: "precise",
                createdAt: dates[0],
                expiresAt: dates[1],
                lastUsedAt: dates[2],
                digest: TokenRecord.fixture().digest
            )
            try await insert(record)
            try expect(try await stored(record) == record, "insert lost a sub-second date")
            try await store.recordUse([record.id: dates[3]])
            try expect(try await stored(record)?.lastUsedAt == dates[3], "recordUse lost a sub-second date")
            _ = try await store.setDisabled(owner: "alice", name: "precise", at: dates[4], now: dates[0])
            try expect(try await stored(record)?.disabledAt == dates[4], "setDisabled lost a sub-second date")
            _ = try await store.changeLimits(.init(expiry: .at(dates[5])), owner: "alice", name: "precise", now: start)
            try expect(try await stored(record)?.expiresAt == dates[5], "changeLimits lost a sub-second date")
            _ = try await store.revoke(owner: "alice", name: "precise", at: dates[5])
            try expect(try await stored(record)?.revokedAt == dates[5], "revoke lost a sub-second date")
        }

        func inputLimits() async throws {
            let held = record("alice", "held")
            try await insert(held)
            func refused(_ code: TokenKitError.Code, _ what: String, _ record: TokenRecord) async throws {
                try await expectError(code, what) { try await insert(record) }
                try expect(try await stored(record) == nil, "\(what) was refused but written")
            }
            func with(
                owner: String = "alice",
                name: String = "n",
                scopes: Set<String> = [],
                created: Date? = nil
            )
                -> TokenRecord
            {
                TokenRecord(
                    id: .random(),
                    owner: owner,
                    name: name,
                    createdAt: created ?? start,
                    expiresAt: nil,
                    scopes: scopes,
                    digest: TokenRecord.fixture().digest
                )
            }
            try await refused(
                .invalidOwner,
                "an owner of 70,000 bytes",
                with(owner: String(repeating: "o", count: 70_000))
            )
            try await refused(.invalidOwner, "an empty owner", with(owner: ""))
            try await refused(.invalidName, "a name of 70,000 bytes", with(name: String(repeating: "n", count: 70_000)))
            try await refused(.invalidName, "a name with a control character", with(name: "a\u{7}b"))
            try await refused(.invalidScope, "101 scopes", with(scopes: Set((0...100).map { "s\($0)" })))
            try await refused(
                .invalidScope,
                "a scope of 2,000 bytes",
                with(scopes: [String(repeating: "s", count: 2_000)])
            )
            try await refused(
                .invalidDate,
                "an infinite creation date",
                with(created: Date(timeIntervalSince1970: .infinity))
            )
            try await refused(
                .invalidDate,
                "a creation date after 9999",
                with(created: Date(timeIntervalSince1970: 3e11))
            )
            try await refused(
                .invalidDate,
                "a creation date that is not a whole microsecond",
                with(created: Date(timeIntervalSinceReferenceDate: 800_000_000.000_000_4))
            )
            let networks = try (0...100).map { try IPNetwork(parsing: "10.0.\($0).0/24") }
            try await expectError(.tooManyNetworks, "101 allowed networks") {
                _ = try await store.changeLimits(
                    .init(allowedNetworks: networks),
                    owner: "alice",
                    name: "held",
                    now: start
                )
            }
            try await expectError(.invalidDate, "an expiry of NaN") {
                _ = try await store.changeLimits(
                    .init(expiry: .at(Date(timeIntervalSince1970: .nan))),
                    owner: "alice",
                    name: "held",
                    now: start
                )
            }
            try await expectError(.invalidDate, "a last use at +infinity") {
                try await store.recordUse([held.id: Date(timeIntervalSince1970: .infinity)])
            }
            try await expectError(.invalidName, "a rename to 70,000 bytes") {
                _ = try await store.rename(owner: "alice", name: "held", to: String(repeating: "n", count: 70_000))
            }
            try expect(try await stored(held) == held, "refused input changed a stored record")
        }

        // MARK: Rotation

        func successor(at offset: TimeInterval, expiry: TokenLimitsChange.Expiry? = nil) -> TokenSuccessor {
            TokenSuccessor(
                id: .random(),
                digest: TokenRecord.fixture().digest,
                createdAt: start + offset,
                expiry: expiry
            )
        }

        func rotation() async throws {
            let network = try IPNetwork(parsing: "192.0.2.0/24")
            let old = TokenRecord(
                id: .random(),
                owner: "alice",
                name: "ci",
                createdAt: start,
                expiresAt: start + 86_400,
                scopes: ["read"],
                allowedNetworks: [network],
                lastUsedAt: start + 1,
                disabledAt: start + 2,
                digest: TokenRecord.fixture().digest
            )
            try await insert(old)
            let next = successor(at: 10)
            let graceEnd = start + 3_600
            let change = try await store.rotate(
                owner: "alice",
                name: "ci",
                successor: next,
                revokingPreviousAt: graceEnd
            )
            let expected = TokenRecord(
                id: next.id,
                owner: "alice",
                name: "ci",
                createdAt: start + 10,
                expiresAt: start + 86_400,
                scopes: ["read"],
                allowedNetworks: [network],
                disabledAt: start + 2,
                digest: next.digest,
                lineageID: old.id
            )
            try expect(
                change.token == expected,
                "the successor is not the old record's owner, name, limits and lineage with the new identity"
            )
            try expect(
                change.predecessors.map(\.id) == [old.id] && change.predecessors.first?.revokedAt == graceEnd,
                "rotate did not return the old record revoked as of the grace end"
            )
            try expect(try await stored(old)?.revokedAt == graceEnd, "the old record's revocation was not stored")
            try expect(
                try await lookUp(through: store, next.digest) == expected,
                "the successor was not stored as returned"
            )
            let holders = try await store.records(owner: "alice").filter(\.holdsName)
            try expect(holders.map(\.id) == [next.id], "after rotate, only the successor may hold the name")

            let renewed = successor(at: 20, expiry: .never)
            let again = try await store.rotate(
                owner: "alice",
                name: "ci",
                successor: renewed,
                revokingPreviousAt: start + 20
            )
            try expect(again.token.expiresAt == nil, "a successor's own expiry was not used")
            try expect(again.token.lineageID == old.id, "a second rotation left the lineage")

            try await expectError(.duplicateToken, "a successor with a stored digest") {
                let reused = TokenSuccessor(id: .random(), digest: old.digest, createdAt: start + 30)
                _ = try await store.rotate(
                    owner: "alice",
                    name: "ci",
                    successor: reused,
                    revokingPreviousAt: start + 30
                )
            }
            try await expectError(.duplicateToken, "a successor with a stored id") {
                let reused = TokenSuccessor(id: old.id, digest: TokenRecord.fixture().digest, createdAt: start + 30)
                _ = try await store.rotate(
                    owner: "alice",
                    name: "ci",
                    successor: reused,
                    revokingPreviousAt: start + 30
                )
            }
            try expect(try await store.records(owner: "alice").count == 3, "a refused rotation changed the store")
        }

        func rotationLineage() async throws {
            // Rotate with a long grace: the old secret is a predecessor in grace until start + 1000.
            try await insert(record("alice", "ci"))
            let rotated = try await store.rotate(
                owner: "alice",
                name: "ci",
                successor: successor(at: 1),
                revokingPreviousAt: start + 1_000
            )
            let old = rotated.predecessors[0]
            let new = rotated.token
            // An unrelated token of the same name history must never follow.
            let unrelated = TokenRecord.fixture(owner: "alice", name: "ci-old", revokedAt: start + 1_000)
            try await insert(unrelated)

            let limited = try await store.changeLimits(
                .init(scopes: ["narrow"]),
                owner: "alice",
                name: "ci",
                now: start + 2
            )
            try expect(
                limited.predecessors.map(\.id) == [old.id],
                "changeLimits did not report the predecessor in grace"
            )
            try expect(try await stored(old)?.scopes == ["narrow"], "changeLimits did not narrow the predecessor")

            let disabled = try await store.setDisabled(owner: "alice", name: "ci", at: start + 3, now: start + 3)
            try expect(disabled.predecessors.map(\.id) == [old.id], "setDisabled did not report the predecessor")
            try expect(try await stored(old)?.disabledAt == start + 3, "setDisabled did not disable the predecessor")
            _ = try await store.setDisabled(owner: "alice", name: "ci", at: nil, now: start + 4)
            try expect(try await stored(old)?.disabledAt == nil, "enabling did not enable the predecessor")

            _ = try await store.rename(owner: "alice", name: "ci", to: "deploy")
            try expect(try await stored(old)?.name == "ci", "rename changed a predecessor's name")

            let revoked = try await store.revoke(owner: "alice", name: "deploy", at: start + 5)
            try expect(revoked.predecessors.map(\.id) == [old.id], "revoke did not report the predecessor in grace")
            try expect(try await stored(old)?.revokedAt == start + 5, "revoke left the rotated-out secret valid")
            try expect(try await stored(new)?.revokedAt == start + 5, "revoke did not revoke the token")
            try expect(try await stored(unrelated)?.revokedAt == start + 1_000, "revoke touched another lineage")

            // Delete: a fresh lineage, rotated twice; one predecessor's grace is over.
            try await insert(record("bob", "ci"))
            let first = try await store.rotate(
                owner: "bob",
                name: "ci",
                successor: successor(at: 1),
                revokingPreviousAt: start + 2
            )
            let second = try await store.rotate(
                owner: "bob",
                name: "ci",
                successor: successor(at: 3),
                revokingPreviousAt: start + 1_000
            )
            let deleted = try await store.delete(owner: "bob", name: "ci", now: start + 10)
            try expect(
                deleted.token.id == second.token.id && deleted.predecessors.map(\.id) == [second.predecessors[0].id],
                "delete did not remove exactly the token and its predecessor in grace"
            )
            try expect(try await stored(second.predecessors[0]) == nil, "a deleted predecessor is still stored")
            try expect(
                try await stored(first.predecessors[0]) != nil,
                "delete removed a predecessor whose grace was over"
            )
        }

        // MARK: Queries

        func purge() async throws {
            let oldRevoked = TokenRecord.fixture(owner: "alice", name: "a", revokedAt: start - 100)
            let oldExpired = TokenRecord.fixture(owner: "bob", name: "b", expiresAt: start - 100)
            let recentRevoked = TokenRecord.fixture(owner: "alice", name: "c", revokedAt: start + 100)
            let live = TokenRecord.fixture(owner: "alice", name: "d", expiresAt: start + 100)
            let forever = TokenRecord.fixture(owner: "carol", name: "e")
            let atCutoff = TokenRecord.fixture(owner: "carol", name: "f", expiresAt: start)
            for record in [oldRevoked, oldExpired, recentRevoked, live, forever, atCutoff] {
                try await insert(record)
            }
            let purged = try await store.purge(before: start)
            try expect(
                Set(purged.map(\.id)) == [oldRevoked.id, oldExpired.id, atCutoff.id],
                "purge removed \(purged.map(\.name)), expected [a, b, f] (f expires exactly at the cutoff)"
            )
            for record in [oldRevoked, oldExpired] {
                try expect(try await stored(record) == nil, "purged record \(record.name) is still found")
            }
            for record in [recentRevoked, live, forever] {
                try expect(try await stored(record) == record, "purge touched \(record.name)")
            }
        }

        func expiringRecords() async throws {
            let soon = TokenRecord.fixture(owner: "alice", name: "soon", expiresAt: start + 60)
            let later = TokenRecord.fixture(owner: "bob", name: "later", expiresAt: start + 600)
            let outside = TokenRecord.fixture(owner: "alice", name: "outside", expiresAt: start + 7_200)
            let past = TokenRecord.fixture(owner: "alice", name: "past", expiresAt: start - 1)
            let revoked = TokenRecord.fixture(
                owner: "alice",
                name: "revoked",
                expiresAt: start + 60,
                revokedAt: start - 1
            )
            let never = TokenRecord.fixture(owner: "alice", name: "never")
            let atStart = TokenRecord.fixture(owner: "carol", name: "at-start", expiresAt: start)
            let atEnd = TokenRecord.fixture(owner: "carol", name: "at-end", expiresAt: start + 3_600)
            for record in [later, outside, past, revoked, never, soon, atStart, atEnd] { try await insert(record) }
            let found = try await store.records(expiringBetween: start, and: start + 3_600)
            try expect(
                found.map(\.id) == [atStart.id, soon.id, later.id],
                "found \(found.map(\.name)), expected [at-start, soon, later]: the window holds its start, not its end"
            )
        }

        // MARK: Hasher and handles

        func hasherIdentity(secondHandle: any TokenStore) async throws {
            let keys = ["first key of 32 bytes, at least!", "other key of 32 bytes, at least!"]
            let identities = keys.map { TokenHasherIdentity(of: HMACSHA256Hasher(key: Array($0.utf8))) }
            // Two first bindings racing on a fresh store, through both handles: exactly one wins.
            let store = self.store
            let winners = try await withThrowingTaskGroup(of: TokenHasherIdentity?.self) { group in
                for (index, identity) in identities.enumerated() {
                    group.addTask {
                        do {
                            try await (index == 0 ? store : secondHandle).bindHasher(identity)
                            return identity
                        } catch let error as TokenKitError where error.code == .hasherMismatch {
                            return nil
                        }
                    }
                }
                return try await group.reduce(into: [TokenHasherIdentity]()) { winners, identity in
                    if let identity { winners.append(identity) }
                }
            }
            try expect(winners.count == 1, "\(winners.count) of 2 racing first bindings of different hashers succeeded")
            let first = winners[0]
            let other = identities.first { $0 != first }!
            try await store.bindHasher(first)
            try await expectError(.hasherMismatch, "binding a hasher with another key") {
                try await store.bindHasher(other)
            }
            try await expectError(.hasherMismatch, "binding another algorithm") {
                try await store.bindHasher(TokenHasherIdentity(of: SHA256Hasher()))
            }
            try await expectError(.hasherMismatch, "binding another key through a second handle") {
                try await secondHandle.bindHasher(other)
            }
            try await secondHandle.bindHasher(first)
        }

        /// Whether `condition` holds now or, for a store with a staleness bound, becomes true
        /// within it (polled every millisecond).
        func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
            let deadline = ContinuousClock.now + validationStaleness
            while true {
                if try await condition() { return true }
                if ContinuousClock.now >= deadline { return false }
                try await Task.sleep(for: .milliseconds(1))
            }
        }

        func twoHandles(secondHandle other: any TokenStore) async throws {
            let record = record("alice", "ci")
            try await store.insert(record, maximumLiveTokensPerOwner: nil)
            try expect(
                try await lookUp(through: other, record.digest) == record,
                "an insert through one handle is not seen by the next look-up through the other"
            )
            _ = try await other.rename(owner: "alice", name: "ci", to: "deploy")
            try expect(
                try await store.records(owner: "alice").map(\.name) == ["deploy"],
                "a rename through the second handle is not seen by the first"
            )
            _ = try await store.revoke(owner: "alice", name: "deploy", at: start)
            try expect(
                try await lookUp(through: store, record.digest)?.revokedAt == start,
                "a revocation is not seen by the next validation look-up through the same handle"
            )
            try expect(
                try await eventually {
                    try await lookUp(through: other, record.digest, exact: false)?.revokedAt == start
                },
                validationStaleness == .zero
                    ? "a revocation through one handle is not seen by the next validation look-up through the other"
                    : "a revocation through one handle is not seen by validation look-ups through the other within \(validationStaleness)"
            )
            _ = try await other.delete(id: record.id)
            try expect(
                try await store.record(id: record.id) == nil,
                "a delete through the second handle is not seen by the first"
            )
            try await insert(.fixture(owner: "bob", name: "x"))
            try await expectError(.duplicateName, "a second \"x\" through the other handle") {
                try await other.insert(.fixture(owner: "bob", name: "x"), maximumLiveTokensPerOwner: nil)
            }
        }

        // MARK: Races

        func concurrentInsertsOfOneName() async throws {
            let store = self.store
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        do {
                            try await store.insert(
                                .fixture(owner: "alice", name: "race"),
                                maximumLiveTokensPerOwner: nil
                            )
                            return true
                        } catch let error as TokenKitError where error.code == .duplicateName {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            try expect(
                outcomes.count { $0 } == 1,
                "\(outcomes.count { $0 }) of 100 concurrent inserts of one name succeeded"
            )
            try expect(try await store.records(owner: "alice").count == 1, "the store holds more than one \"race\"")
        }

        func concurrentRenameAndRevoke() async throws {
            let store = self.store
            let records = (0..<20).map { record("alice", "t\($0)", offset: Double($0)) }
            for record in records { try await insert(record) }
            let revokedAt = start
            // Every task renames its token onto one shared name or revokes it; at most one rename
            // onto "shared" may win, and revoked tokens must stay revoked.
            let revokedNames = try await withThrowingTaskGroup(of: String?.self) { group in
                for (index, record) in records.enumerated() {
                    group.addTask {
                        do {
                            _ = try await store.rename(owner: "alice", name: record.name, to: "shared")
                        } catch let error as TokenKitError where [.duplicateName, .tokenNotFound].contains(error.code) {
                            // Lost the race to another rename or to the revoke: both are allowed.
                        }
                        return nil
                    }
                    if index.isMultiple(of: 2) {
                        group.addTask {
                            do {
                                _ = try await store.revoke(owner: "alice", name: record.name, at: revokedAt)
                                return record.name
                            } catch let error as TokenKitError where error.code == .tokenNotFound {
                                return nil  // Renamed first.
                            }
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { if let name = $1 { $0.append(name) } }
            }
            let final = try await store.records(owner: "alice")
            try expect(final.count == records.count, "records were lost: \(final.count) of \(records.count) remain")
            let liveShared = final.filter { $0.holdsName && $0.name == "shared" }
            try expect(liveShared.count <= 1, "\(liveShared.count) live records share the name \"shared\"")
            for name in revokedNames {
                let record = records.first { $0.name == name }
                try expect(
                    final.first { $0.id == record?.id }?.revokedAt == revokedAt,
                    "a revoke of \(name) was lost"
                )
            }
            let liveNames = final.filter(\.holdsName).map(\.name)
            try expect(Set(liveNames).count == liveNames.count, "live names are not unique: \(liveNames.sorted())")
            for record in final {
                try expect(
                    try await lookUp(through: store, record.digest) == record,
                    "look-up by digest disagrees with the listing"
                )
            }
        }
    }
}
