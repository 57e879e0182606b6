import Foundation

extension TokenManager {
    // MARK: Updating

    /// Changes a token's expiry, scopes or allowed networks, with the same checks as creation.
    /// Arguments left `nil` are not changed. A predecessor the token replaced by rotation, still in
    /// its grace period, gets the same limits, so narrowing a token narrows its old secret too.
    ///
    /// An expiry is resolved against the current time, as at creation: `.after(.seconds(3600))`
    /// means an hour from now.
    ///
    /// - Returns: The token and the predecessors changed with it.
    /// - Throws: ``TokenKitError`` as ``create(owner:name:expiry:scopes:allowedNetworks:)`` does, or
    ///   with code ``TokenKitError/Code/tokenNotFound``.
    @discardableResult
    public func update(
        owner: String,
        name: String,
        expiry: TokenExpiry? = nil,
        scopes: Set<String>? = nil,
        allowedNetworks: [IPNetwork]? = nil
    ) async throws -> LineageChange {
        try TokenStoreRules.checkOwner(owner)
        if let scopes { try TokenStoreRules.checkScopes(scopes) }
        if let allowedNetworks { try TokenStoreRules.checkNetworks(allowedNetworks) }
        let now = try currentDate()
        let change = TokenLimitsChange(
            expiry: try expiry.map { expiry throws(TokenKitError) in try expiryChange(for: expiry, now: now) },
            scopes: scopes,
            allowedNetworks: allowedNetworks
        )
        try await bindHasherIfNeeded()
        let updated = try await store.changeLimits(change, owner: owner, name: name, now: now)
        audit(updated, TokenAuditEvent(.updated, time: now, record: updated.token))
        return updated
    }

    // MARK: Rotating

    /// Issues a new secret for a token and returns it — the only time it is available. The old
    /// secret keeps validating until `grace` has passed, then is rejected as revoked.
    ///
    /// The new token takes over the name, scopes, allowed networks, disabled state and (unless
    /// `expiry` is given) the expiry date, and gets a new id; it continues the old token's lineage,
    /// so revoking, disabling, deleting or changing the token by name during the grace period
    /// applies to the old secret too. Rotating again during a grace period rotates the newest
    /// token; tokens rotated out earlier keep their own grace periods.
    ///
    /// - Parameters:
    ///   - grace: How long the old secret stays valid; zero (the default) revokes it at once.
    ///   - expiry: A new expiry for the new token, checked like one given at creation; `nil` keeps
    ///     the old token's expiry date.
    /// - Returns: The new token with its secret, and the old token as written, with when its secret
    ///   stops working.
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound``,
    ///   ``TokenKitError/Code/invalidGracePeriod``, or as creation does for `expiry`.
    public func rotate(
        owner: String,
        name: String,
        grace: Duration = .zero,
        expiry: TokenExpiry? = nil
    ) async throws -> Rotation {
        try TokenStoreRules.checkOwner(owner)
        guard grace >= .zero else {
            throw TokenKitError(
                .invalidGracePeriod,
                "A rotation's grace period cannot be negative; use zero to revoke the old secret at once."
            )
        }
        let now = try currentDate()
        let graceEnd = now + grace.timeInterval
        guard TokenStoreRules.dateRange.contains(graceEnd) else {
            throw TokenKitError(.invalidGracePeriod, "A rotation's grace period must end before 9999-12-31.")
        }
        let secret = configuration.format.generate()
        let successor = TokenSuccessor(
            id: .random(),
            digest: configuration.hasher.digest(of: secret),
            createdAt: now,
            expiry: try expiry.map { expiry throws(TokenKitError) in try expiryChange(for: expiry, now: now) }
        )
        try await bindHasherIfNeeded()
        let change = try await store.rotate(
            owner: owner,
            name: name,
            successor: successor,
            revokingPreviousAt: try TokenStoreRules.normalized(graceEnd)
        )
        let previous = change.predecessors.first ?? change.token
        let rotation = Rotation(issued: IssuedToken(record: change.token, secret: secret), previous: previous)
        audit(
            TokenAuditEvent(
                .rotated,
                time: now,
                record: change.token,
                previousTokenID: previous.id,
                detail: grace == .zero
                    ? "previous secret revoked" : "previous secret valid until \(rotation.previousSecretValidUntil)"
            )
        )
        return rotation
    }

    // MARK: Disabling

    /// Disables a token without deleting it: it is kept and listed, but does not validate
    /// (``RejectionReason/disabled``) until enabled again. A predecessor it replaced by rotation,
    /// still in its grace period, is disabled with it.
    @discardableResult
    public func disable(owner: String, name: String) async throws -> LineageChange {
        let now = try currentDate()
        let change = try await setDisabled(owner: owner, name: name, at: now, now: now)
        audit(change, TokenAuditEvent(.disabled, time: now, record: change.token))
        return change
    }

    /// Enables a disabled token again, with its predecessors still in their grace period.
    @discardableResult
    public func enable(owner: String, name: String) async throws -> LineageChange {
        let now = try currentDate()
        let change = try await setDisabled(owner: owner, name: name, at: nil, now: now)
        audit(change, TokenAuditEvent(.enabled, time: now, record: change.token))
        return change
    }

    private func setDisabled(owner: String, name: String, at date: Date?, now: Date) async throws -> LineageChange {
        try TokenStoreRules.checkOwner(owner)
        try await bindHasherIfNeeded()
        return try await store.setDisabled(owner: owner, name: name, at: date, now: now)
    }

    // MARK: Deleting

    /// Deletes the owner's token that holds `name` — active, disabled or expired — for good, with
    /// the predecessors it replaced by rotation that are still in their grace period.
    ///
    /// - Returns: The records deleted.
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound``.
    @discardableResult
    public func delete(owner: String, name: String) async throws -> LineageChange {
        try TokenStoreRules.checkOwner(owner)
        let now = try currentDate()
        try await bindHasherIfNeeded()
        let deleted = try await store.delete(owner: owner, name: name, now: now)
        audit(deleted, TokenAuditEvent(.deleted, time: now, record: deleted.token))
        return deleted
    }

    /// Deletes any token, revoked ones included, by id.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound``.
    @discardableResult
    public func delete(id: TokenID) async throws -> TokenRecord {
        let now = try currentDate()
        try await bindHasherIfNeeded()
        let record = try await store.delete(id: id)
        audit(TokenAuditEvent(.deleted, time: now, record: record))
        return record
    }

    /// Deletes every token, of every owner, that has been expired or revoked for longer than
    /// `retention`. cPanel keeps expired tokens until someone deletes them; run this from a daily job
    /// instead. With a `FileTokenStore`, the space is reclaimed at its next compaction.
    ///
    /// - Returns: The tokens deleted.
    @discardableResult
    public func purge(olderThan retention: Duration) async throws -> [TokenRecord] {
        let now = try currentDate()
        try await bindHasherIfNeeded()
        let purged = try await store.purge(before: try Self.queryDate(now - max(.zero, retention).timeInterval))
        for record in purged { audit(TokenAuditEvent(.deleted, time: now, record: record)) }
        return purged
    }

    // MARK: Expiry warnings

    /// The tokens, of every owner, that expire within `window` from now and are not revoked,
    /// soonest first: for "your token expires in 7 days" notices.
    public func tokensExpiring(within window: Duration) async throws -> [TokenRecord] {
        let now = try currentDate()
        try await bindHasherIfNeeded()
        return try await store.records(expiringBetween: now, and: try Self.queryDate(now + window.timeInterval))
    }

    // MARK: Helpers

    /// A query bound brought inside the dates a store keeps, so that any store can take it.
    private static func queryDate(_ date: Date) throws(TokenKitError) -> Date {
        let range = TokenStoreRules.dateRange
        let interval = date.timeIntervalSinceReferenceDate
        guard interval.isFinite else { return interval > 0 ? range.upperBound : range.lowerBound }
        return try TokenStoreRules.normalized(min(max(date, range.lowerBound), range.upperBound))
    }

    /// The limits change for a requested expiry, checked by the ``ExpiryPolicy``.
    private func expiryChange(for expiry: TokenExpiry, now: Date) throws(TokenKitError) -> TokenLimitsChange.Expiry {
        try configuration.expiryPolicy.expiryDate(for: expiry, now: now).map { .at($0) } ?? .never
    }
}
