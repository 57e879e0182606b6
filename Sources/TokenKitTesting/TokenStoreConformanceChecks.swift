import Foundation
import TokenKit

extension TokenStoreConformance {
    /// One check's store, with assertion helpers that throw ``Failure``.
    struct Context: Sendable {
        let check: Check
        let store: any TokenStore
        let start = Date(timeIntervalSince1970: 1_800_000_000)

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

        // MARK: Checks

        func insertAndLookUp() async throws {
            let record = TokenRecord.fixture(owner: "alice", name: "ci", expiresAt: start + 3600, scopes: ["read"])
            try await insert(record)
            try expect(
                try await store.record(forDigest: record.digest) == record,
                "record(forDigest:) did not return the inserted record"
            )
            try expect(
                try await store.record(id: record.id) == record,
                "record(id:) did not return the inserted record"
            )
            try expect(
                try await store.records(owner: "alice") == [record],
                "records(owner:) did not return the inserted record"
            )
        }

        func missingRecords() async throws {
            try await insert(.fixture(owner: "alice"))
            let absent = TokenRecord.fixture(owner: "bob")
            try expect(try await store.record(forDigest: absent.digest) == nil, "found a record for an absent digest")
            try expect(try await store.record(id: absent.id) == nil, "found a record for an absent id")
            try expect(try await store.records(owner: "bob").isEmpty, "listed records for an owner with none")
        }

        func listsByOwnerOldestFirst() async throws {
            let newer = TokenRecord.fixture(owner: "alice", name: "b", createdAt: start + 10)
            let older = TokenRecord.fixture(owner: "alice", name: "a", createdAt: start)
            let other = TokenRecord.fixture(owner: "bob", name: "a", createdAt: start + 5)
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

        func updateAndRename() async throws {
            let first = TokenRecord.fixture(owner: "alice", name: "first")
            let second = TokenRecord.fixture(owner: "alice", name: "second")
            try await insert(first)
            try await insert(second)
            let renamed = try await store.update(id: first.id) {
                $0.name = "renamed"
                $0.scopes = ["read"]
            }
            try expect(
                renamed.name == "renamed" && renamed.scopes == ["read"],
                "update did not return the changed record"
            )
            try expect(try await store.record(id: first.id) == renamed, "record(id:) does not show the update")
            try expect(
                try await store.record(forDigest: first.digest) == renamed,
                "record(forDigest:) does not show the update"
            )
            try await expectError(.duplicateName, "a rename onto a live name") {
                _ = try await store.update(id: first.id) { $0.name = "second" }
            }
            struct Abandon: Error {}
            var rethrown = false
            do {
                _ = try await store.update(id: first.id) { record in
                    record.name = "abandoned"
                    throw Abandon()
                }
            } catch is Abandon {
                rethrown = true
            }
            try expect(rethrown, "an update whose change threw did not rethrow the change's error")
            try expect(try await store.record(id: first.id)?.name == "renamed", "a throwing change was written")
            _ = try await store.update(id: second.id) { $0.revokedAt = start }
            let reused = try await store.update(id: first.id) { $0.name = "second" }
            try expect(reused.name == "second", "a revoked record's name could not be reused")
        }

        func updateKeepsIdentity() async throws {
            let record = TokenRecord.fixture(owner: "alice", name: "ci")
            try await insert(record)
            let impostor = TokenRecord.fixture(owner: "mallory", name: "ci")
            let refused: Bool
            do {
                _ = try await store.update(id: record.id) { $0 = impostor }
                refused = false
            } catch {
                refused = true
            }
            try expect(refused, "an update that replaced the record's identity succeeded")
            try expect(try await store.record(id: record.id) == record, "a refused identity change was written")
        }

        func unknownIDs() async throws {
            let absent = TokenID.random()
            try await expectError(.tokenNotFound, "update of an unknown id") {
                _ = try await store.update(id: absent) { $0.name = "x" }
            }
            try await expectError(.tokenNotFound, "delete of an unknown id") { try await store.delete(id: absent) }
            try await store.recordUse([absent: start])
        }

        func revokeAll() async throws {
            let a = TokenRecord.fixture(owner: "alice", name: "a")
            let b = TokenRecord.fixture(owner: "alice", name: "b")
            let old = TokenRecord.fixture(owner: "alice", name: "old", revokedAt: start - 100)
            let bobs = TokenRecord.fixture(owner: "bob", name: "a")
            for record in [a, b, old, bobs] { try await insert(record) }
            let revoked = try await store.revokeAll(owner: "alice", at: start)
            try expect(
                Set(revoked.map(\.id)) == [a.id, b.id],
                "revokeAll changed \(revoked.map(\.name)), expected [a, b]"
            )
            try expect(revoked.allSatisfy { $0.revokedAt == start }, "revokeAll did not set the revocation time")
            try expect(
                try await store.record(id: old.id)?.revokedAt == start - 100,
                "revokeAll moved an earlier revocation"
            )
            try expect(try await store.record(id: bobs.id)?.revokedAt == nil, "revokeAll touched another owner")
            try await insert(.fixture(owner: "alice", name: "a"))
        }

        func delete() async throws {
            let record = TokenRecord.fixture(owner: "alice", name: "ci")
            try await insert(record)
            try await store.delete(id: record.id)
            try expect(try await store.record(id: record.id) == nil, "a deleted record is still found by id")
            try expect(
                try await store.record(forDigest: record.digest) == nil,
                "a deleted record is still found by digest"
            )
            try expect(try await store.records(owner: "alice").isEmpty, "a deleted record is still listed")
            try await insert(.fixture(owner: "alice", name: "ci"))
        }

        func recordUse() async throws {
            let record = TokenRecord.fixture(owner: "alice", name: "ci")
            try await insert(record)
            try await store.recordUse([record.id: start + 60])
            try expect(
                try await store.record(id: record.id)?.lastUsedAt == start + 60,
                "recordUse did not set lastUsedAt"
            )
            try await store.recordUse([record.id: start + 30, .random(): start])
            try expect(
                try await store.record(id: record.id)?.lastUsedAt == start + 60,
                "recordUse moved lastUsedAt back"
            )
        }

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
            try expect(
                try await store.record(id: record.id) == record,
                "a record with every field set changed in the store"
            )
            let cleared = try await store.update(id: record.id) { $0.disabledAt = nil }
            try expect(cleared.disabledAt == nil, "update did not clear disabledAt")
            try expect(try await store.record(id: record.id)?.disabledAt == nil, "a cleared disabledAt came back")
        }

        func replaceForRotation() async throws {
            let old = TokenRecord.fixture(owner: "alice", name: "ci", scopes: ["read"])
            try await insert(old)
            let replacement = TokenRecord.fixture(owner: "alice", name: "ci", createdAt: start + 1)
            let graceEnd = start + 3_600
            let written = try await store.replace(id: old.id, revokingAt: graceEnd, with: replacement)
            try expect(
                written.id == old.id && written.revokedAt == graceEnd,
                "replace did not schedule the old record's revocation"
            )
            try expect(
                try await store.record(id: old.id)?.revokedAt == graceEnd,
                "the old record's revocation was not stored"
            )
            try expect(
                try await store.record(forDigest: replacement.digest) == replacement,
                "the replacement was not stored"
            )
            let live = try await store.records(owner: "alice").filter(\.holdsName)
            try expect(live.map(\.id) == [replacement.id], "after replace, only the replacement may hold the name")
            try await expectError(.tokenNotFound, "replacing a record that no longer holds its name") {
                _ = try await store.replace(
                    id: old.id,
                    revokingAt: graceEnd,
                    with: .fixture(owner: "alice", name: "ci")
                )
            }
            try await expectError(.duplicateToken, "a replacement with a stored digest") {
                let reused = TokenRecord(
                    id: .random(),
                    owner: "alice",
                    name: "ci",
                    createdAt: start,
                    expiresAt: nil,
                    digest: old.digest
                )
                _ = try await store.replace(id: replacement.id, revokingAt: graceEnd, with: reused)
            }
            try expect(try await store.records(owner: "alice").count == 2, "a refused replace changed the store")
        }

        func purge() async throws {
            let oldRevoked = TokenRecord.fixture(owner: "alice", name: "a", revokedAt: start - 100)
            let oldExpired = TokenRecord.fixture(owner: "bob", name: "b", expiresAt: start - 100)
            let recentRevoked = TokenRecord.fixture(owner: "alice", name: "c", revokedAt: start + 100)
            let live = TokenRecord.fixture(owner: "alice", name: "d", expiresAt: start + 100)
            let forever = TokenRecord.fixture(owner: "carol", name: "e")
            for record in [oldRevoked, oldExpired, recentRevoked, live, forever] { try await insert(record) }
            let purged = try await store.purge(before: start)
            try expect(
                Set(purged.map(\.id)) == [oldRevoked.id, oldExpired.id],
                "purge removed \(purged.map(\.name)), expected [a, b]"
            )
            for record in [oldRevoked, oldExpired] {
                try expect(try await store.record(id: record.id) == nil, "purged record \(record.name) is still found")
            }
            for record in [recentRevoked, live, forever] {
                try expect(try await store.record(id: record.id) == record, "purge touched \(record.name)")
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
            for record in [later, outside, past, revoked, never, soon] { try await insert(record) }
            let found = try await store.records(expiringBetween: start, and: start + 3_600)
            try expect(found.map(\.id) == [soon.id, later.id], "found \(found.map(\.name)), expected [soon, later]")
        }

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
            let records = (0..<20).map { TokenRecord.fixture(owner: "alice", name: "t\($0)") }
            for record in records { try await insert(record) }
            let revokedAt = start
            // Every task renames its token onto one shared name or revokes it; at most one rename
            // onto "shared" may win, and revoked tokens must stay revoked.
            await withTaskGroup(of: Void.self) { group in
                for (index, record) in records.enumerated() {
                    group.addTask {
                        _ = try? await store.update(id: record.id) { $0.name = "shared" }
                    }
                    if index.isMultiple(of: 2) {
                        group.addTask {
                            _ = try? await store.update(id: record.id) { $0.revokedAt = revokedAt }
                        }
                    }
                }
            }
            let final = try await store.records(owner: "alice")
            try expect(final.count == records.count, "records were lost: \(final.count) of \(records.count) remain")
            let liveShared = final.filter { $0.holdsName && $0.name == "shared" }
            try expect(liveShared.count <= 1, "\(liveShared.count) live records share the name \"shared\"")
            for (index, record) in records.enumerated() where index.isMultiple(of: 2) {
                try expect(
                    final.first { $0.id == record.id }?.revokedAt == revokedAt,
                    "a revoke of \(record.name) was lost"
                )
            }
            let liveNames = final.filter(\.holdsName).map(\.name)
            try expect(Set(liveNames).count == liveNames.count, "live names are not unique: \(liveNames.sorted())")
            for record in final {
                try expect(
                    try await store.record(forDigest: record.digest) == record,
                    "look-up by digest disagrees with the listing"
                )
            }
        }
    }
}
