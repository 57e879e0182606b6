import Foundation

/// Issues, lists, renames, revokes and validates API tokens: the type a server holds.
///
/// ```swift
/// let manager = TokenManager(store: InMemoryTokenStore())
///
/// let issued = try await manager.create(owner: "alice", name: "deploy", expiry: .after(.seconds(30 * 86_400)))
/// print(issued.secret)            // shown once; only its digest is stored
///
/// let record = try await manager.validate(authorization: "Bearer \(issued.secret)").authenticated()
/// try await manager.revoke(owner: "alice", name: "deploy")
/// ```
///
/// A manager is `Sendable`; share one per store across all requests. Operations by name act on the
/// owner's token that holds the name (not revoked), as cPanel's screens do.
public final class TokenManager: Sendable {
    /// The store that holds the records.
    public let store: any TokenStore
    /// The policies and collaborators in use.
    public let configuration: Configuration
    private let usage: UsageRecorder
    private let expiryWarnings: ExpiryWarnings?

    /// Creates a manager over `store`.
    public init(store: any TokenStore, configuration: Configuration = Configuration()) {
        self.store = store
        self.configuration = configuration
        self.usage = UsageRecorder(store: store, interval: configuration.lastUsedInterval)
        self.expiryWarnings = configuration.expiryWarningWindow.map(ExpiryWarnings.init)
    }

    // MARK: Managing tokens

    /// Creates a token and returns its secret — the only time the secret is available.
    ///
    /// - Parameters:
    ///   - owner: The account the token acts for.
    ///   - name: A name unique among the owner's live tokens, following the ``NamePolicy``.
    ///   - expiry: When the token expires; by default, as the ``ExpiryPolicy`` says.
    ///   - scopes: What the token may do; empty (the default) means full access.
    ///   - allowedNetworks: Where the token may be used from; empty (the default) means anywhere.
    /// - Throws: ``TokenKitError`` when an argument breaks a rule or policy, or the name is taken.
    public func create(
        owner: String,
        name: String,
        expiry: TokenExpiry = .policyDefault,
        scopes: Set<String> = [],
        allowedNetworks: [IPNetwork] = []
    ) async throws -> IssuedToken {
        try InputRules.validateOwner(owner)
        try configuration.namePolicy.validate(name)
        try InputRules.validateScopes(scopes)
        try InputRules.validateNetworks(allowedNetworks)
        let now = configuration.clock.now()
        let expiresAt = try configuration.expiryPolicy.expiryDate(for: expiry, now: now)
        let secret = configuration.format.generate()
        let record = TokenRecord(
            id: .random(),
            owner: owner,
            name: name,
            createdAt: now,
            expiresAt: expiresAt,
            scopes: scopes,
            allowedNetworks: allowedNetworks,
            digest: configuration.hasher.digest(of: secret)
        )
        try await store.insert(record, maximumLiveTokensPerOwner: configuration.maximumLiveTokensPerOwner)
        audit(TokenAuditEvent(.created, time: now, record: record))
        return IssuedToken(record: record, secret: secret)
    }

    /// Lists an owner's tokens, oldest first.
    ///
    /// - Parameters:
    ///   - owner: The account.
    ///   - statuses: Which tokens to include; by default ``TokenStatus/current``: the active ones, as
    ///     cPanel lists them, and disabled ones, which can be enabled again. Pass
    ///     ``TokenStatus/all`` for every token.
    public func list(
        owner: String,
        including statuses: Set<TokenStatus> = TokenStatus.current
    ) async throws
        -> [TokenRecord]
    {
        let now = configuration.clock.now()
        return try await store.records(owner: owner).filter { statuses.contains($0.status(at: now)) }
    }

    /// Gives a token a new name.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/invalidName``,
    ///   ``TokenKitError/Code/sameName``, ``TokenKitError/Code/tokenNotFound`` or
    ///   ``TokenKitError/Code/duplicateName``.
    @discardableResult
    public func rename(owner: String, name: String, to newName: String) async throws -> TokenRecord {
        try configuration.namePolicy.validate(newName)
        guard newName != name else { throw TokenKitError.sameName(name) }
        let current = try await liveToken(owner: owner, name: name)
        let renamed = try await store.update(id: current.id) { record in
            guard record.holdsName, record.name == name else { throw TokenKitError.tokenNotFound(name) }
            record.name = newName
        }
        audit(TokenAuditEvent(.renamed, time: configuration.clock.now(), record: renamed, previousName: name))
        return renamed
    }

    /// Revokes a token: from now on it never validates, in any process sharing the store.
    ///
    /// The record stays, listed with status ``TokenStatus/revoked``, and its name is free again.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound``.
    @discardableResult
    public func revoke(owner: String, name: String) async throws -> TokenRecord {
        let current = try await liveToken(owner: owner, name: name)
        let now = configuration.clock.now()
        let revoked = try await store.update(id: current.id) { record in
            guard record.holdsName, record.name == name else { throw TokenKitError.tokenNotFound(name) }
            record.revokedAt = now
        }
        audit(TokenAuditEvent(.revoked, time: now, record: revoked))
        return revoked
    }

    /// Revokes every token of an owner, such as when the account's password is reset.
    ///
    /// - Returns: The tokens revoked.
    @discardableResult
    public func revokeAll(owner: String) async throws -> [TokenRecord] {
        try InputRules.validateOwner(owner)
        let now = configuration.clock.now()
        let revoked = try await store.revokeAll(owner: owner, at: now)
        for record in revoked { audit(TokenAuditEvent(.revoked, time: now, record: record)) }
        return revoked
    }

    // MARK: Validating tokens

    /// Checks a presented token.
    ///
    /// Checks run in this order: format (no store look-up for a malformed token), digest look-up,
    /// revocation, expiry, disabled, idle time, owner, address, scopes. A valid use is recorded as the token's last use
    /// (at most once per ``Configuration/lastUsedInterval``, written in the background).
    ///
    /// - Parameters:
    ///   - token: The token text as the client sent it.
    ///   - owner: The user the client claims to be, if it said (as `cpanel USER:TOKEN` does).
    ///   - scopes: The scopes the request needs.
    ///   - address: The client's address. A token with an allow-list is refused when it is `nil`.
    /// - Returns: ``ValidationResult/valid(_:)`` or ``ValidationResult/rejected(_:)``.
    /// - Throws: Only when the store cannot be read.
    public func validate(
        _ token: String,
        owner: String? = nil,
        requiring scopes: Set<String> = [],
        from address: IPAddress? = nil
    ) async throws -> ValidationResult {
        let now = configuration.clock.now()
        do {
            try configuration.format.validate(token)
        } catch {
            return reject(.malformed, at: now, owner: owner, detail: error.reason.code, address: address)
        }
        let digest = configuration.hasher.digest(of: token)
        guard let record = try await store.record(forDigest: digest) else {
            return reject(.unknown, at: now, owner: owner, address: address)
        }
        let problem: RejectionReason? =
            if record.isRevoked(at: now) {
                .revoked
            } else if record.isExpired(at: now) {
                .expired
            } else if record.isDisabled {
                .disabled
            } else if isIdle(record, at: now) {
                .idle
            } else if let owner, owner != record.owner {
                .wrongOwner
            } else if !record.allows(address) {
                .addressNotAllowed
            } else if !record.grants(scopes) {
                .missingScope
            } else {
                nil
            }
        if let problem {
            let detail = problem == .wrongOwner ? owner.map { "claimed owner \(quoted($0))" } : nil
            return reject(problem, at: now, record: record, detail: detail, address: address)
        }
        usage.noteUse(of: record, at: now)
        if let expiryWarnings, configuration.auditSink != nil, expiryWarnings.shouldWarn(about: record, at: now) {
            audit(TokenAuditEvent(.expiringSoon, time: now, record: record))
        }
        return .valid(record)
    }

    /// Checks the token in an HTTP `Authorization` header: `Bearer TOKEN`, `cpanel USER:TOKEN` or
    /// `whm USER:TOKEN`. When the header names a user, the token must belong to that user.
    ///
    /// - Parameters:
    ///   - header: The header's value.
    ///   - scopes: The scopes the request needs.
    ///   - address: The client's address.
    /// - Throws: Only when the store cannot be read.
    public func validate(
        authorization header: String,
        requiring scopes: Set<String> = [],
        from address: IPAddress? = nil
    ) async throws -> ValidationResult {
        let credentials: AuthorizationCredentials
        do {
            credentials = try AuthorizationCredentials(parsing: header)
        } catch {
            return reject(.malformed, at: configuration.clock.now(), detail: error.reason.code, address: address)
        }
        return try await validate(credentials.token, owner: credentials.user, requiring: scopes, from: address)
    }

    /// Writes pending last-used times now. Call it when the server shuts down.
    public func flushUsage() async throws {
        try await usage.flush()
    }

    // MARK: Helpers

    /// Whether `record` has gone unused for longer than the idle limit.
    private func isIdle(_ record: TokenRecord, at now: Date) -> Bool {
        guard let limit = configuration.maximumIdleTime else { return false }
        return now.timeIntervalSince(record.lastUsedAt ?? record.createdAt) > limit.timeInterval
    }

    /// The owner's token that holds `name`.
    func liveToken(owner: String, name: String) async throws -> TokenRecord {
        try InputRules.validateOwner(owner)
        guard let record = try await store.records(owner: owner).first(where: { $0.holdsName && $0.name == name })
        else {
            throw TokenKitError.tokenNotFound(name)
        }
        return record
    }

    /// Audits a failed validation and returns the rejection.
    private func reject(
        _ reason: RejectionReason,
        at time: Date,
        record: TokenRecord? = nil,
        owner: String? = nil,
        detail: String? = nil,
        address: IPAddress?
    ) -> ValidationResult {
        audit(
            TokenAuditEvent(
                .validationFailed,
                time: time,
                owner: record?.owner ?? owner,
                tokenID: record?.id,
                tokenName: record?.name,
                rejection: reason,
                detail: detail,
                address: address
            )
        )
        return .rejected(reason)
    }

    /// Hands an event to the sink; the event is not even built when there is no sink.
    func audit(_ event: @autoclosure () -> TokenAuditEvent) {
        configuration.auditSink?.record(event())
    }
}
