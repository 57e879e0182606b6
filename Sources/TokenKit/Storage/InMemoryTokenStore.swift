import Foundation
import Synchronization

/// A ``TokenStore`` that keeps records in memory, for tests, demos and servers that issue
/// short-lived tokens which need not survive a restart.
///
/// Every method runs under one lock, without suspending, so a look-up costs a lock and a
/// dictionary probe. Records are gone when the store is.
public final class InMemoryTokenStore: TokenStore {
    private let index = Mutex(TokenIndex())

    /// Creates an empty store.
    public init() {}

    /// The number of records held, of every status.
    public var count: Int { index.withLock { $0.count } }

    /// Adds `record`; see ``TokenStore/insert(_:maximumLiveTokensPerOwner:)``.
    public func insert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) throws {
        try index.withLock { (index) throws(TokenKitError) in
            try index.prepareInsert(record, maximumLiveTokensPerOwner: maximumLiveTokensPerOwner)
            index.put(record)
        }
    }

    /// The record with `digest`, found with one dictionary probe.
    public func record(forDigest digest: TokenDigest) -> TokenRecord? {
        index.withLock { $0.record(forDigest: digest) }
    }

    /// The record with `id`.
    public func record(id: TokenID) -> TokenRecord? {
        index.withLock { $0.record(id: id) }
    }

    /// The owner's records of every status, oldest first.
    public func records(owner: String) -> [TokenRecord] {
        index.withLock { $0.records(owner: owner) }
    }

    /// Applies `change` atomically; see ``TokenStore/update(id:_:)``.
    public func update(
        id: TokenID,
        _ change: @escaping @Sendable (inout TokenRecord) throws -> Void
    ) throws -> TokenRecord {
        try index.withLock { index in
            let updated = try index.prepareUpdate(id: id, change)
            index.put(updated)
            return updated
        }
    }

    /// Revokes the owner's live records as of `date`.
    public func revokeAll(owner: String, at date: Date) -> [TokenRecord] {
        index.withLock { index in
            let revoked = index.prepareRevokeAll(owner: owner, at: date)
            for record in revoked { index.put(record) }
            return revoked
        }
    }

    /// Removes the record with `id`.
    public func delete(id: TokenID) throws {
        try index.withLock { (index) throws(TokenKitError) in
            guard index.remove(id: id) != nil else { throw .tokenNotFound(id: id) }
        }
    }

    /// Replaces a token atomically; see ``TokenStore/replace(id:revokingAt:with:)``.
    public func replace(id: TokenID, revokingAt date: Date, with replacement: TokenRecord) throws -> TokenRecord {
        try index.withLock { (index) throws(TokenKitError) in
            let (old, new) = try index.prepareReplace(id: id, revokingAt: date, with: replacement)
            index.put(old)
            index.put(new)
            return old
        }
    }

    /// Removes records revoked or expired at or before `cutoff`.
    public func purge(before cutoff: Date) -> [TokenRecord] {
        index.withLock { index in
            let purged = index.preparePurge(before: cutoff)
            for record in purged { index.remove(id: record.id) }
            return purged
        }
    }

    /// The records that expire between `start` and `end`, soonest first.
    public func records(expiringBetween start: Date, and end: Date) -> [TokenRecord] {
        index.withLock { $0.records(expiringBetween: start, and: end) }
    }

    /// Moves last-used times forward.
    public func recordUse(_ uses: [TokenID: Date]) {
        index.withLock { index in
            for record in index.prepareRecordUse(uses) { index.put(record) }
        }
    }
}
