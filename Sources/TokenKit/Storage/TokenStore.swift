import Foundation

/// Where token records live: memory, a file, or a database you write a store for.
///
/// ``TokenManager`` holds a store and calls it for every operation. TokenKit ships
/// ``InMemoryTokenStore`` and ``FileTokenStore``; a downstream team can back tokens with PostgreSQL
/// or Redis by conforming to this protocol, and prove the conformance with
/// `TokenStoreConformance` from the `TokenKitTesting` product. The article
/// <doc:ImplementingATokenStore> walks through every requirement with its SQL.
///
/// Every operation is typed and addressed by what it changes — a record, or the token an owner
/// holds under a name — so each is one SQL statement or one short transaction, with no caller code
/// inside. ``TokenStoreRules`` holds the checks and derivations every store shares.
///
/// ## The contract
///
/// Every implementation must guarantee all of the following, also when many tasks (and, for stores
/// shared between processes or hosts, many processes) call it at once:
///
/// 1. **Atomic, durable writes.** Each mutating method takes effect entirely or not at all. When it
///    returns, its change is durable and visible to every later call through any handle on the same
///    backing store (another `FileTokenStore` on the path, another connection to the database);
///    before it is durable, nobody sees it. A method that throws has changed nothing — except
///    when the store cannot know (a connection lost during a database's commit): it then throws a
///    storage error that says the outcome is unknown.
/// 2. **Name uniqueness.** No two records of one owner that hold their name
///    (``TokenRecord/holdsName``: not revoked, not scheduled for revocation) share a
///    ``TokenRecord/name``. ``insert(_:maximumLiveTokensPerOwner:)`` and
///    ``rename(owner:name:to:)`` check this atomically with the write and throw
///    ``TokenKitError/duplicateName(_:renaming:)``.
/// 3. **Identity.** ``TokenRecord/id`` and ``TokenRecord/digest`` are each unique across the store:
///    an insert or rotation that repeats one throws ``TokenKitError/duplicateToken(id:)``. No
///    operation changes a record's id, owner, digest, creation date or lineage. An inserted record
///    starts its own lineage (``TokenStoreRules/checkNewRecord(_:)``).
/// 4. **Input limits.** A store checks what it is asked to write with ``TokenStoreRules`` before
///    writing, and so never writes anything it cannot read back: every string, list and date of
///    every accepted record comes back exactly — dates to the microsecond.
/// 5. **Addressing by name.** The by-name operations act on the record of `owner` that holds
///    `name`, and throw ``TokenKitError/tokenNotFound(owner:name:)`` when there is none.
///    ``rename(owner:name:to:)`` changes that record only; revoking, disabling, enabling, changing
///    limits and deleting also apply to the records of its lineage still inside their rotation grace
///    period at the given date (``TokenStoreRules/followsHolder(_:_:at:)``), in the same
///    transaction.
/// 6. **Live-token cap.** When `maximumLiveTokensPerOwner` is given, an insert that would give the
///    owner more records that are neither revoked nor expired at the new record's
///    ``TokenRecord/createdAt`` (``TokenStoreRules/isLive(_:at:)``) throws
///    ``TokenKitError/tokenLimitReached(owner:limit:)``, atomically with the write.
/// 7. **Hasher identity.** ``bindHasher(_:)`` records the first identity it is given and refuses
///    any other with ``TokenKitError/hasherMismatch(stored:given:)``.
/// 8. **Secrets stay out.** A store receives digests only and must never log, print or persist
///    anything it was not given.
/// 9. **Fast look-ups.** ``record(forDigest:)`` is on every validation's path: it should be fast
///    and must reflect every completed write, such as a revocation, from any handle.
/// 10. **Unknown ids.** ``delete(id:)`` throws ``TokenKitError/tokenNotFound(id:)`` for an id the
///     store does not hold; ``recordUse(_:)`` ignores such ids (the token may have been deleted
///     meanwhile).
///
/// Optional capabilities have defaults in an extension: ``performMaintenance()`` does nothing.
public protocol TokenStore: Sendable {
    // MARK: Hasher

    /// Records `identity` as the hasher of the store's digests on first use; afterwards checks that
    /// it is the recorded one. The manager calls it before its first use of the store.
    ///
    /// - Throws: ``TokenKitError/hasherMismatch(stored:given:)`` when another identity is recorded;
    ///   ``TokenKitError/Code/invalidConfiguration`` when `identity` fails
    ///   ``TokenHasherIdentity/check()``.
    func bindHasher(_ identity: TokenHasherIdentity) async throws

    // MARK: Look-ups

    /// Returns the record whose digest is `digest`, if any. Called on every validation that
    /// ``immediateRecord(forDigest:)`` does not answer.
    func record(forDigest digest: TokenDigest) async throws -> TokenRecord?

    /// Answers ``record(forDigest:)`` at once, without suspending, when the store can — from
    /// memory, a mapped file, or a cache it knows to be fresh — or returns
    /// ``ImmediateLookup/unavailable`` when it would have to wait.
    ///
    /// ``TokenManager`` asks this first on every validation and awaits ``record(forDigest:)`` only
    /// when the answer is unavailable, which saves an asynchronous call per validation. An answer
    /// must be the one ``record(forDigest:)`` would give at that moment; the conformance suite
    /// compares them. The default implementation is always unavailable.
    ///
    /// - Throws: What ``record(forDigest:)`` would throw, such as a storage failure.
    func immediateRecord(forDigest digest: TokenDigest) throws -> ImmediateLookup

    /// Returns the record with `id`, if any.
    func record(id: TokenID) async throws -> TokenRecord?

    /// Returns every record of `owner` — active, expired and revoked — oldest first
    /// (``TokenStoreRules/isOlder(_:than:)``).
    func records(owner: String) async throws -> [TokenRecord]

    /// Returns every record, of any owner, that expires at or after `start` and before `end` and is
    /// not revoked at `start` (``TokenStoreRules/isExpiring(_:between:and:)``), soonest first, then
    /// by id (``TokenStoreRules/expiresSooner(_:than:)``): the tokens to warn about.
    func records(expiringBetween start: Date, and end: Date) async throws -> [TokenRecord]

    // MARK: Writes

    /// Adds a new record, after ``TokenStoreRules/checkNewRecord(_:)``.
    ///
    /// - Parameters:
    ///   - record: The record to add.
    ///   - maximumLiveTokensPerOwner: The owner's cap on live tokens, or `nil` for none.
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/duplicateName``,
    ///   ``TokenKitError/Code/duplicateToken`` or ``TokenKitError/Code/tokenLimitReached``, a code of
    ///   ``TokenStoreRules``, or a storage error.
    func insert(_ record: TokenRecord, maximumLiveTokensPerOwner: Int?) async throws

    /// Renames the record of `owner` that holds `name` (its predecessors keep their names).
    ///
    /// - Returns: The record as written.
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound``,
    ///   ``TokenKitError/Code/duplicateName`` (worded for a rename) or
    ///   ``TokenKitError/Code/invalidName`` (``TokenStoreRules/checkName(_:)``).
    func rename(owner: String, name: String, to newName: String) async throws -> TokenRecord

    /// Revokes, as of `date`, the record of `owner` that holds `name` and its predecessors in grace
    /// (``TokenStoreRules/revoked(_:at:)``). The name is free again at once.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound``.
    func revoke(owner: String, name: String, at date: Date) async throws -> LineageChange

    /// Revokes, as of `date`, the record with `id` — whether it holds its name or is a
    /// rotated-out secret in grace — and the older records of its lineage still in grace
    /// (``TokenStoreRules/precedes(_:_:at:)``): what a leaked secret calls for. An earlier
    /// revocation stays.
    ///
    /// - Throws: ``TokenKitError/tokenNotFound(id:)``.
    func revoke(id: TokenID, at date: Date) async throws -> LineageChange

    /// Disables (with a date) or enables (with `nil`) the record of `owner` that holds `name` and
    /// its predecessors in grace at `now` (``TokenStoreRules/disabled(_:at:)``).
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound``.
    func setDisabled(owner: String, name: String, at date: Date?, now: Date) async throws -> LineageChange

    /// Changes the expiry, scopes or allowed networks of the record of `owner` that holds `name`
    /// and of its predecessors in grace at `now` (``TokenStoreRules/limited(_:by:)``), after
    /// ``TokenStoreRules/checkLimits(_:)``.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound`` or a code of
    ///   ``TokenStoreRules``.
    func changeLimits(
        _ change: TokenLimitsChange,
        owner: String,
        name: String,
        now: Date
    ) async throws
        -> LineageChange

    /// Deletes for good the record of `owner` that holds `name` and its predecessors in grace at
    /// `now`.
    ///
    /// - Returns: The records removed.
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound``.
    func delete(owner: String, name: String, now: Date) async throws -> LineageChange

    /// Deletes for good the record with `id`, whatever its status.
    ///
    /// - Returns: The record removed.
    /// - Throws: ``TokenKitError/tokenNotFound(id:)``.
    func delete(id: TokenID) async throws -> TokenRecord

    /// Rotates the token `owner` holds under `name`, atomically: the old record stops holding its
    /// name and is revoked as of `graceEnd` (``TokenStoreRules/revoked(_:at:)``; a future date is
    /// the grace period), and ``TokenStoreRules/successor(of:_:)`` of it is inserted.
    ///
    /// - Returns: The new record as ``LineageChange/token``, the old one as written as the single
    ///   predecessor.
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound``,
    ///   ``TokenKitError/Code/duplicateToken`` or ``TokenKitError/Code/invalidDate``.
    func rotate(
        owner: String,
        name: String,
        successor: TokenSuccessor,
        revokingPreviousAt graceEnd: Date
    )
        async throws -> LineageChange

    /// Revokes, as of `date`, every record of `owner` that holds its name or whose revocation is
    /// scheduled after `date`.
    ///
    /// - Returns: The records that changed.
    func revokeAll(owner: String, at date: Date) async throws -> [TokenRecord]

    /// Removes for good every record revoked or expired at or before `cutoff`
    /// (``TokenStoreRules/isPurged(_:before:)``), atomically.
    ///
    /// - Returns: The records removed.
    func purge(before cutoff: Date) async throws -> [TokenRecord]

    /// Records when tokens were last used. A stored time only moves forward: a use older than the
    /// stored ``TokenRecord/lastUsedAt`` is ignored, as are unknown ids.
    ///
    /// - Throws: ``TokenKitError/Code/invalidDate`` for a date a store cannot keep.
    func recordUse(_ uses: [TokenID: Date]) async throws

    // MARK: Optional

    /// Does the store's periodic upkeep, such as compacting a log; ``TokenManager/run()`` calls it
    /// about once a ``TokenManager/Configuration/maintenanceInterval``. It reports a failure of
    /// upkeep done in the background since the last call by throwing it. The default does nothing.
    func performMaintenance() async throws
}

extension TokenStore {
    /// Always ``ImmediateLookup/unavailable``: every look-up goes to ``record(forDigest:)``.
    public func immediateRecord(forDigest digest: TokenDigest) throws -> ImmediateLookup {
        .unavailable
    }

    /// Does nothing: stores without upkeep need not implement it.
    public func performMaintenance() async throws {}
}
