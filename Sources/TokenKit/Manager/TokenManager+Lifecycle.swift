import Foundation

extension TokenManager {
    // MARK: Updating

    /// Changes a token's expiry, scopes or allowed networks, with the same checks as creation.
    /// Arguments left `nil` are not changed.
    ///
    /// An expiry is resolved against the current time, as at creation: `.after(.seconds(3600))`
    /// means an hour from now.
    ///
    /// - Throws: ``TokenKitError`` as ``create(owner:name:expiry:scopes:allowedNetworks:)`` does, or
    ///   with code ``TokenKitError/Code/tokenNotFound``.
    @discardableResult
    public func update(
        owner: String,
        name: String,
        expiry: TokenExpiry? = nil,
        scopes: Set<String>? = nil,
        allowedNetworks: [IPNetwork]? = nil
    ) async throws -> TokenRecord {
        if let scopes { try InputRules.validateScopes(scopes) }
        if let allowedNetworks { try InputRules.validateNetworks(allowedNetworks) }
        let now = configuration.clock.now()
        let expiresAt = try expiry.map { expiry throws(TokenKitError) in
            try configuration.expiryPolicy.expiryDate(for: expiry, now: now)
        }
        let current = try await liveToken(owner: owner, name: name)
        let updated = try await store.update(id: current.id) { record in
            guard record.holdsName, record.name == name else { throw TokenKitError.tokenNotFound(name) }
            if let expiresAt { record.expiresAt = expiresAt }
            if let scopes { record.scopes = scopes }
            if let allowedNetworks { record.allowedNetworks = allowedNetworks }
        }
        audit(TokenAuditEvent(.updated, time: now, record: updated))
        return updated
    }

    // MARK: Rotating

    /// Issues a new secret for a token and returns it — the only time it is available. The old
    /// secret keeps validating until `grace` has passed, then is rejected as revoked.
    ///
    /// The new token takes over the name, scopes, allowed networks and (unless `expiry` is given)
    /// the expiry date, and gets a new id. Rotating again during a grace period rotates the newest
    /// token; tokens rotated out earlier keep their own grace periods.
    ///
    /// - Parameters:
    ///   - grace: How long the old secret stays valid; zero (the default) revokes it at once.
    ///   - expiry: A new expiry for the new token, checked like one given at creation; `nil` keeps
    ///     the old token's expiry date.
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound`` or
    ///   ``TokenKitError/Code/invalidGracePeriod``, or as creation does for `expiry`.
    public func rotate(
        owner: String,
        name: String,
        grace: Duration = .zero,
        expiry: TokenExpiry? = nil
    ) async throws -> IssuedToken {
        guard grace >= .zero else {
            throw TokenKitError(
                .invalidGracePeriod,
                "A rotation's grace period cannot be negative; use zero to revoke the old secret at once."
            )
        }
        let now = configuration.clock.now()
        let newExpiry = try expiry.map { expiry throws(TokenKitError) in
            try configuration.expiryPolicy.expiryDate(for: expiry, now: now)
        }
        let current = try await liveToken(owner: owner, name: name)
        let secret = configuration.format.generate()
        let replacement = TokenRecord(
            id: .random(),
            owner: owner,
            name: name,
            createdAt: now,
            expiresAt: newExpiry ?? current.expiresAt,
            scopes: current.scopes,
            allowedNetworks: current.allowedNetworks,
            disabledAt: current.disabledAt,
            digest: configuration.hasher.digest(of: secret)
        )
        let graceEnd = now + grace.timeInterval
        let old = try await store.replace(id: current.id, revokingAt: graceEnd, with: replacement)
        audit(
            TokenAuditEvent(
                .rotated,
                time: now,
                record: replacement,
                previousTokenID: old.id,
                detail: grace == .zero ? "previous secret revoked" : "previous secret valid until \(graceEnd)"
            )
        )
        return IssuedToken(record: replacement, secret: secret)
    }

    // MARK: Disabling

    /// Disables a token without deleting it: it is kept and listed, but does not validate
    /// (``RejectionReason/disabled``) until enabled again.
    @discardableResult
    public func disable(owner: String, name: String) async throws -> TokenRecord {
        let now = configuration.clock.now()
        let record = try await setDisabled(owner: owner, name: name, at: now)
        audit(TokenAuditEvent(.disabled, time: now, record: record))
        return record
    }

    /// Enables a disabled token again.
    @discardableResult
    public func enable(owner: String, name: String) async throws -> TokenRecord {
        let record = try await setDisabled(owner: owner, name: name, at: nil)
        audit(TokenAuditEvent(.enabled, time: configuration.clock.now(), record: record))
        return record
    }

    private func setDisabled(owner: String, name: String, at date: Date?) async throws -> TokenRecord {
        let current = try await liveToken(owner: owner, name: name)
        return try await store.update(id: current.id) { record in
            guard record.holdsName, record.name == name else { throw TokenKitError.tokenNotFound(name) }
            record.disabledAt = date
        }
    }

    // MARK: Deleting

    /// Deletes the owner's token that holds `name` — active, disabled or expired — for good.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound``.
    @discardableResult
    public func delete(owner: String, name: String) async throws -> TokenRecord {
        let record = try await liveToken(owner: owner, name: name)
        try await store.delete(id: record.id)
        audit(TokenAuditEvent(.deleted, time: configuration.clock.now(), record: record))
        return record
    }

    /// Deletes any token, revoked ones included, by id.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound``.
    @discardableResult
    public func delete(id: TokenID) async throws -> TokenRecord {
        guard let record = try await store.record(id: id) else { throw TokenKitError.tokenNotFound(id: id) }
        try await store.delete(id: id)
        audit(TokenAuditEvent(.deleted, time: configuration.clock.now(), record: record))
        return record
    }

    /// Deletes every token, of every owner, that has been expired or revoked for longer than
    /// `retention`. cPanel keeps expired tokens until someone deletes them; run this from a daily job
    /// instead. With a `FileTokenStore`, the space is reclaimed at its next compaction.
    ///
    /// - Returns: The tokens deleted.
    @discardableResult
    public func purge(olderThan retention: Duration) async throws -> [TokenRecord] {
        let now = configuration.clock.now()
        let purged = try await store.purge(before: now - max(.zero, retention).timeInterval)
        for record in purged { audit(TokenAuditEvent(.deleted, time: now, record: record)) }
        return purged
    }

    // MARK: Expiry warnings

    /// The tokens, of every owner, that expire within `window` from now and are not revoked,
    /// soonest first: for "your token expires in 7 days" notices.
    public func tokensExpiring(within window: Duration) async throws -> [TokenRecord] {
        let now = configuration.clock.now()
        return try await store.records(expiringBetween: now, and: now + window.timeInterval)
    }
}
