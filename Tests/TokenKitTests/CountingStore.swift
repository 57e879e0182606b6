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

    func insert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) async throws {
        try await inner.insert(record, maximumLiveTokensPerOwner: maximumLiveTokensPerOwner)
    }

    func record(forDigest digest: TokenDigest) async throws -> TokenRecord? {
        try await inner.record(forDigest: digest)
    }

    func record(id: TokenID) async throws -> TokenRecord? { try await inner.record(id: id) }

    func records(owner: String) async throws -> [TokenRecord] { try await inner.records(owner: owner) }

    func update(
        id: TokenID,
        _ change: @escaping @Sendable (inout TokenRecord) throws -> Void
    ) async throws -> TokenRecord {
        try await inner.update(id: id, change)
    }

    func revokeAll(owner: String, at date: Date) async throws -> [TokenRecord] {
        try await inner.revokeAll(owner: owner, at: date)
    }

    func delete(id: TokenID) async throws { try await inner.delete(id: id) }

    func replace(id: TokenID, revokingAt date: Date, with replacement: TokenRecord) async throws -> TokenRecord {
        try await inner.replace(id: id, revokingAt: date, with: replacement)
    }

    func purge(before cutoff: Date) async throws -> [TokenRecord] { try await inner.purge(before: cutoff) }

    func records(expiringBetween start: Date, and end: Date) async throws -> [TokenRecord] {
        try await inner.records(expiringBetween: start, and: end)
    }

    func recordUse(_ uses: [TokenID: Date]) async throws {
        writes.withLock { $0.append(uses) }
        try await inner.recordUse(uses)
    }
}
