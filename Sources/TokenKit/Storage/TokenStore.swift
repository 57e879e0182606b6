import Foundation

/// Where token records live: memory, a file, or a database you write a store for.
///
/// ``TokenManager`` holds a store and calls it for every operation. TokenKit ships
/// ``InMemoryTokenStore`` and `FileTokenStore`; a downstream team can back tokens with PostgreSQL or
/// Redis by conforming to this protocol, and prove the conformance with `TokenStoreConformance`
/// from the `TokenKitTesting` product.
///
/// ## The contract
///
/// Every implementation must guarantee all of the following, also when many tasks (and, for stores
/// shared between processes, many processes) call it at once:
///
/// 1. **Atomic writes.** Each mutating method takes effect entirely or not at all, and a method
///    that returns has made its change visible to every later call, in every process sharing the
///    store. A method that throws has changed nothing.
/// 2. **Name uniqueness.** No two records of one owner whose ``TokenRecord/holdsName`` is true share
///    a ``TokenRecord/name``. ``insert(_:maximumLiveTokensPerOwner:)`` and
///    ``update(id:_:)`` check this atomically with the write and throw
///    ``TokenKitError/Code/duplicateName`` (see ``TokenKitError/duplicateName(_:renaming:)``).
/// 3. **Identity.** ``TokenRecord/id`` and ``TokenRecord/digest`` are each unique across the store;
///    ``insert(_:maximumLiveTokensPerOwner:)`` throws ``TokenKitError/Code/duplicateToken`` for a
///    repeat. An update never changes a record's id, owner, digest or creation time.
/// 4. **Live-token cap.** When `maximumLiveTokensPerOwner` is given, an insert that would give the
///    owner more records that are neither revoked nor expired at the new record's
///    ``TokenRecord/createdAt`` throws ``TokenKitError/Code/tokenLimitReached``, atomically with
///    the write.
/// 5. **Secrets stay out.** A store receives digests only and must never log, print or persist
///    anything it was not given.
/// 6. **Read-your-writes look-ups.** ``record(forDigest:)`` is on every validation's path: it
///    should be fast and must reflect every completed write, such as a revocation.
/// 7. **Unknown ids.** ``update(id:_:)`` and ``delete(id:)`` throw
///    ``TokenKitError/Code/tokenNotFound`` for an id the store does not hold;
///    ``recordUse(_:)`` ignores such ids (the token may have been deleted meanwhile).
public protocol TokenStore: Sendable {
    /// Adds a new record.
    ///
    /// - Parameters:
    ///   - record: The record to add.
    ///   - maximumLiveTokensPerOwner: The owner's cap on live tokens, or `nil` for none.
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/duplicateName``,
    ///   ``TokenKitError/Code/duplicateToken`` or ``TokenKitError/Code/tokenLimitReached``; any
    ///   error when the store cannot be written.
    func insert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) async throws

    /// Returns the record whose digest is `digest`, if any. Called on every validation.
    func record(forDigest digest: TokenDigest) async throws -> TokenRecord?

    /// Returns the record with `id`, if any.
    func record(id: TokenID) async throws -> TokenRecord?

    /// Returns every record of `owner` — active, expired and revoked — oldest first (records created
    /// at the same instant may come in any order).
    func records(owner: String) async throws -> [TokenRecord]

    /// Changes one record atomically: reads it, lets `change` modify a copy, checks the contract on
    /// the result and writes it.
    ///
    /// `change` may throw to abandon the update; the store then rethrows that error and changes
    /// nothing. It must not change the record's id, owner, digest or creation time, and must not
    /// call the store: stores may run it while holding their lock.
    ///
    /// - Returns: The record as written.
    /// - Throws: What `change` throws; ``TokenKitError`` with code
    ///   ``TokenKitError/Code/tokenNotFound`` or ``TokenKitError/Code/duplicateName``.
    func update(
        id: TokenID,
        _ change: @escaping @Sendable (inout TokenRecord) throws -> Void
    ) async throws -> TokenRecord

    /// Revokes, as of `date`, every record of `owner` that holds its name or whose revocation is
    /// scheduled after `date`.
    ///
    /// - Returns: The records that changed.
    func revokeAll(owner: String, at date: Date) async throws -> [TokenRecord]

    /// Removes a record for good.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound``.
    func delete(id: TokenID) async throws

    /// Replaces a token with a new one atomically, for rotation: the old record stops holding its
    /// name and is revoked as of `date` (which may be in the future: the grace period), and
    /// `replacement`, which has the same owner and name, is inserted.
    ///
    /// - Returns: The old record as written.
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound`` when no record
    ///   with `id` holds its name, or ``TokenKitError/Code/duplicateToken``.
    func replace(id: TokenID, revokingAt date: Date, with replacement: TokenRecord) async throws -> TokenRecord

    /// Removes for good every record revoked or expired at or before `cutoff`, atomically.
    ///
    /// - Returns: The records removed.
    func purge(before cutoff: Date) async throws -> [TokenRecord]

    /// Returns every record, of any owner, that expires at or after `start` and before `end` and is
    /// not revoked at `start`, soonest first: the tokens to warn about.
    func records(expiringBetween start: Date, and end: Date) async throws -> [TokenRecord]

    /// Records when tokens were last used. A stored time only moves forward: a use older than the
    /// stored ``TokenRecord/lastUsedAt`` is ignored, as are unknown ids.
    func recordUse(_ uses: [TokenID: Date]) async throws
}
