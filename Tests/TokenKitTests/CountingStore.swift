import Foundation
import Synchronization
import TokenKit

/// Wraps a store and counts the last-used writes that reach it.
final class CountingStore: TokenStore {
    let inner: any TokenStore
    private let writes = Mutex<[[TokenID: Date]]>([])

    init(_ inner: any TokenStore = InMemoryTokenStore()) {
        self.inner = inner
    }

    /// Every batch passed to `recordUse`, oldest first.
    var useWrites: [[TokenID: Date]] { writes.withLock { $0 } }

    func bindHasher(_ identity: TokenHasherIdentity) async throws { try await inner.bindHasher(identity) }

    func insert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) async throws {
        try await inner.insert(record, maximumLiveTokensPerOwner: maximumLiveTokensPerOwner)
    }

    func record(forDigest digest: TokenDigest) async throws -> TokenRecord? {
        try await inner.record(forDigest: digest)
    }

    func record(id: TokenID) async throws -> TokenRecord? { try await inner.record(id: id) }

    func records(owner: String) async throws -> [TokenRecord] { try await inner.records(owner: owner) }

    func records(expiringBetween start: Date, and end: Date) async throws -> [TokenRecord] {
        try await inner.records(expiringBetween: start, and: end)
    }

    func rename(owner: String, name: String, to newName: String) async throws -> TokenRecord {
        try await inner.rename(owner: owner, name: name, to: newName)
    }

    func revoke(owner: String, name: String, at date: Date) async throws -> LineageChange {
        try await inner.revoke(owner: owner, name: name, at: date)
    }

    func revoke(id: TokenID, at date: Date) async throws -> LineageChange {
        try await inner.revoke(id: id, at: date)
    }

    func setDisabled(owner: String, name: String, at date: Date?, now: Date) async throws -> LineageChange {
        try await inner.setDisabled(owner: owner, name: name, at: date, now: now)
    }

    func changeLimits(
        _ change: TokenLimitsChange,
        owner: String,
        name: String,
        now: Date
    ) async throws
        -> LineageChange
    {
        try await inner.changeLimits(change, owner: owner, name: name, now: now)
    }

    func delete(owner: String, name: String, now: Date) async throws -> LineageChange {
        try await inner.delete(owner: owner, name: name, now: now)
    }

    func delete(id: TokenID) async throws -> TokenRecord { try await inner.delete(id: id) }

    func rotate(
        owner: String,
        name: String,
        successor: TokenSuccessor,
        revokingPreviousAt graceEnd: Date
    )
        async throws -> LineageChange
    {
        try await inner.rotate(owner: owner, name: name, successor: successor, revokingPreviousAt: graceEnd)
    }

    func revokeAll(owner: String, at date: Date) async throws -> [TokenRecord] {
        try await inner.revokeAll(owner: owner, at: date)
    }

    func purge(before cutoff: Date) async throws -> [TokenRecord] { try await inner.purge(before: cutoff) }

    func recordUse(_ uses: [TokenID: Date]) async throws {
        writes.withLock { $0.append(uses) }
        try await inner.recordUse(uses)
    }
}
