import Foundation
import Synchronization

/// A ``TokenStore`` that keeps records in memory, for tests, demos and servers that issue
/// short-lived tokens which need not survive a restart.
///
/// Every method runs under one lock, without suspending, so a look-up costs a lock and a
/// dictionary probe. Records are gone when the store is. Every handle on the backing store is this
/// one object: share the instance to share the tokens.
public final class InMemoryTokenStore: TokenStore, IndexedTokenStore {
    private let index = Mutex(TokenIndex())

    /// Creates an empty store.
    public init() {}

    /// The number of records held, of every status.
    public var count: Int { index.withLock { $0.count } }

    // MARK: Look-ups

    /// The record with `digest`, found with one dictionary probe.
    public func record(forDigest digest: TokenDigest) -> TokenRecord? {
        index.withLock { $0.record(forDigest: digest) }
    }

    /// The record with `digest`, at once: a look-up never waits here.
    public func immediateRecord(forDigest digest: TokenDigest) -> ImmediateLookup {
        index.withLock { $0.record(forDigest: digest) }.map(ImmediateLookup.found) ?? .notFound
    }

    func immediateValidation(
        of digest: TokenDigest,
        _ request: ValidationRequest,
        recordingRejections: Bool
    ) -> IndexValidation {
        index.withLock { $0.validate(digest: digest, request, recordingRejections: recordingRejections) }
    }

    /// The record with `id`.
    public func record(id: TokenID) -> TokenRecord? {
        index.withLock { $0.record(id: id) }
    }

    /// The owner's records of every status, oldest first.
    public func records(owner: String) -> [TokenRecord] {
        index.withLock { $0.records(owner: owner) }
    }

    /// The records that expire between `start` and `end`, soonest first.
    public func records(expiringBetween start: Date, and end: Date) -> [TokenRecord] {
        index.withLock { $0.records(expiringBetween: start, and: end) }
    }

    // MARK: Writes

    /// Records the hasher, or checks it; see ``TokenStore/bindHasher(_:)``.
    public func bindHasher(_ identity: TokenHasherIdentity) throws {
        try perform { index throws(TokenKitError) in try index.planBindHasher(identity) }
    }

    /// Adds `record`; see ``TokenStore/insert(_:maximumLiveTokensPerOwner:)``.
    public func insert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) throws {
        try perform { index throws(TokenKitError) in
            try index.planInsert(record, maximumLiveTokensPerOwner: maximumLiveTokensPerOwner)
        }
    }

    /// Renames a token; see ``TokenStore/rename(owner:name:to:)``.
    public func rename(owner: String, name: String, to newName: String) throws -> TokenRecord {
        try perform { index throws(TokenKitError) in try index.planRename(owner: owner, name: name, to: newName) }
    }

    /// Revokes a token and its predecessors in grace; see ``TokenStore/revoke(owner:name:at:)``.
    public func revoke(owner: String, name: String, at date: Date) throws -> LineageChange {
        try perform { index throws(TokenKitError) in try index.planRevoke(owner: owner, name: name, at: date) }
    }

    /// Revokes a token by id and its older predecessors in grace; see ``TokenStore/revoke(id:at:)``.
    public func revoke(id: TokenID, at date: Date) throws -> LineageChange {
        try perform { index throws(TokenKitError) in try index.planRevoke(id: id, at: date) }
    }

    /// Disables or enables a token and its predecessors in grace; see
    /// ``TokenStore/setDisabled(owner:name:at:now:)``.
    public func setDisabled(owner: String, name: String, at date: Date?, now: Date) throws -> LineageChange {
        try perform { index throws(TokenKitError) in
            try index.planSetDisabled(owner: owner, name: name, at: date, now: now)
        }
    }

    /// Changes a token's limits and its predecessors'; see
    /// ``TokenStore/changeLimits(_:owner:name:now:)``.
    public func changeLimits(
        _ change: TokenLimitsChange,
        owner: String,
        name: String,
        now: Date
    ) throws
        -> LineageChange
    {
        try perform { index throws(TokenKitError) in
            try index.planChangeLimits(change, owner: owner, name: name, now: now)
        }
    }

    /// Deletes a token and its predecessors in grace; see ``TokenStore/delete(owner:name:now:)``.
    public func delete(owner: String, name: String, now: Date) throws -> LineageChange {
        try perform { index throws(TokenKitError) in try index.planDelete(owner: owner, name: name, now: now) }
    }

    /// Removes the record with `id`.
    public func delete(id: TokenID) throws -> TokenRecord {
        try perform { index throws(TokenKitError) in try index.planDelete(id: id) }
    }

    /// Rotates a token; see ``TokenStore/rotate(owner:name:successor:revokingPreviousAt:)``.
    public func rotate(
        owner: String,
        name: String,
        successor: TokenSuccessor,
        revokingPreviousAt graceEnd: Date
    )
        throws -> LineageChange
    {
        try perform { index throws(TokenKitError) in
            try index.planRotate(owner: owner, name: name, successor: successor, revokingPreviousAt: graceEnd)
        }
    }

    /// Revokes, as of `date`, the owner's records that hold their name and those in rotation grace.
    public func revokeAll(owner: String, at date: Date) throws -> [TokenRecord] {
        try perform { index throws(TokenKitError) in try index.planRevokeAll(owner: owner, at: date) }
    }

    /// Removes records revoked or expired at or before `cutoff`.
    public func purge(before cutoff: Date) -> [TokenRecord] {
        index.withLock { index in
            let plan = index.planPurge(before: cutoff)
            for entry in plan.entries { index.apply(entry) }
            return plan.answer
        }
    }

    /// Moves last-used times forward.
    public func recordUse(_ uses: [TokenID: Date]) throws {
        try perform { index throws(TokenKitError) in try index.planRecordUse(uses) }
    }

    /// Plans an operation and applies it, under the lock.
    private func perform<Answer>(
        _ plan: (TokenIndex) throws(TokenKitError) -> IndexPlan<Answer>
    ) throws(TokenKitError) -> Answer {
        try index.withLock { (index) throws(TokenKitError) -> Answer in
            let planned = try plan(index)
            for entry in planned.entries { index.apply(entry) }
            return planned.answer
        }
    }
}
