import Foundation
import Synchronization

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
    /// The policies and collaborators in use.
    public let configuration: Configuration
    /// The store that holds the records. Not public: every change goes through the manager's
    /// policy checks and audit events.
    let store: any TokenStore
    /// The store again when it validates from TokenKit's own index without building records.
    private let indexedStore: (any IndexedTokenStore)?
    /// ``Configuration/maximumIdleTime`` in seconds, converted once.
    private let idleLimit: Double?
    /// Whether there is an audit sink (so a rejection needs the token's record), read once:
    /// reading ``Configuration/auditSink`` copies an existential.
    private let hasAuditSink: Bool
    let usage: UsageRecorder
    let background = Mutex(BackgroundState())
    /// How many calls of ``run()`` are running: read by every validation that may answer without
    /// waiting, so kept outside ``background``'s lock.
    let runners = Atomic<Int>(0)
    private let expiryWarnings: ExpiryWarnings?
    /// Whether the store has accepted the hasher (``TokenStore/bindHasher(_:)``).
    private let hasherBound = Atomic<Bool>(false)

    /// Creates a manager over `store`.
    ///
    /// The manager binds its hasher to the store before its first use of it: a store whose
    /// digests were made with another hasher or key fails that first call with
    /// ``TokenKitError/Code/hasherMismatch``.
    public init(store: any TokenStore, configuration: Configuration = Configuration()) {
        self.store = store
        self.indexedStore = store as? any IndexedTokenStore
        self.configuration = configuration
        self.idleLimit = configuration.maximumIdleTime?.timeInterval
        self.hasAuditSink = configuration.auditSink != nil
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
        try TokenStoreRules.checkOwner(owner)
        try configuration.namePolicy.validate(name)
        try TokenStoreRules.checkScopes(scopes)
        try TokenStoreRules.checkNetworks(allowedNetworks)
        let now = try currentDate()
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
        try await bindHasherIfNeeded()
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
        let now = try currentDate()
        try await bindHasherIfNeeded()
        return try await store.records(owner: owner).filter { statuses.contains($0.status(at: now)) }
    }

    /// Returns the token with `id`, of any status, or `nil`.
    public func token(id: TokenID) async throws -> TokenRecord? {
        try await bindHasherIfNeeded()
        return try await store.record(id: id)
    }

    /// Gives a token a new name.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/invalidName``,
    ///   ``TokenKitError/Code/sameName``, ``TokenKitError/Code/tokenNotFound`` or
    ///   ``TokenKitError/Code/duplicateName``.
    @discardableResult
    public func rename(owner: String, name: String, to newName: String) async throws -> TokenRecord {
        try TokenStoreRules.checkOwner(owner)
        try configuration.namePolicy.validate(newName)
        guard newName != name else { throw TokenKitError.sameName(name) }
        try await bindHasherIfNeeded()
        let now = try currentDate()
        let renamed = try await store.rename(owner: owner, name: name, to: newName)
        audit(TokenAuditEvent(.renamed, time: now, record: renamed, previousName: name))
        return renamed
    }

    /// Revokes a token: from now on it never validates, in any process sharing the store. A
    /// predecessor it replaced by rotation, still in its grace period, is revoked with it.
    ///
    /// The records stay, listed with status ``TokenStatus/revoked``, and the name is free again.
    ///
    /// - Returns: The token and the predecessors revoked with it.
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/tokenNotFound``.
    @discardableResult
    public func revoke(owner: String, name: String) async throws -> LineageChange {
        try TokenStoreRules.checkOwner(owner)
        let now = try currentDate()
        try await bindHasherIfNeeded()
        let change = try await store.revoke(owner: owner, name: name, at: now)
        audit(change, TokenAuditEvent(.revoked, time: now, record: change.token))
        return change
    }

    /// Revokes every token of an owner, such as when the account's password is reset.
    ///
    /// - Returns: The tokens revoked.
    @discardableResult
    public func revokeAll(owner: String) async throws -> [TokenRecord] {
        try TokenStoreRules.checkOwner(owner)
        let now = try currentDate()
        try await bindHasherIfNeeded()
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
        let now = try currentDate()
        var token = token
        let presented = token.withUTF8 { check(token: $0) }
        return try await decide(presented, owner: owner, requiring: scopes, from: address, at: now)
    }

    /// Checks the token in an HTTP `Authorization` header: `Bearer TOKEN`, `cpanel USER:TOKEN` or
    /// `whm USER:TOKEN`. When the header names a user, the token must belong to that user. Every
    /// refusal is audited, a missing header (``RejectionReason/missingCredentials``) and a scheme
    /// the route does not accept (``RejectionReason/schemeNotAccepted``) included.
    ///
    /// The header is parsed and the token hashed in place, in one pass over the header's bytes.
    ///
    /// - Parameters:
    ///   - header: The header's value, or `nil` when the request has none.
    ///   - schemes: The schemes this route accepts; by default all three.
    ///   - scopes: The scopes the request needs.
    ///   - address: The client's address.
    /// - Throws: Only when the store cannot be read.
    public func validate(
        authorization header: String?,
        accepting schemes: Set<AuthorizationCredentials.Scheme> = AuthorizationCredentials.Scheme.every,
        requiring scopes: Set<String> = [],
        from address: IPAddress? = nil
    ) async throws -> ValidationResult {
        let now = try currentDate()
        guard var header else { return reject(.missingCredentials, at: now, address: address) }
        let outcome = header.withUTF8 { bytes in check(header: bytes, accepting: schemes) }
        switch outcome {
        case .refused(let reason, let owner, let detail):
            return reject(reason, at: now, owner: loggable(owner), detail: detail, address: address)
        case .presented(let owner, let token):
            return try await decide(token, owner: owner, requiring: scopes, from: address, at: now)
        }
    }

    /// Checks the token in an HTTP `Authorization` header as
    /// ``validate(authorization:accepting:requiring:from:)`` does, when that needs no waiting;
    /// otherwise returns `nil` having done nothing, and the caller awaits `validate` instead.
    ///
    /// For a framework whose handlers run on event loops (such as Vapor's `Middleware`): a token
    /// the store answers at once is validated there, without a task. The answer needs waiting
    /// (`nil`) when the manager's hasher is not yet bound to the store (its first call binds it),
    /// when the store cannot answer at once (``TokenStore/immediateRecord(forDigest:)`` is
    /// ``ImmediateLookup/unavailable``, such as a PostgreSQL store while its change feed is not
    /// fresh), and when ``run()`` is not running (a valid use may then have to be written before
    /// the answer). `InMemoryTokenStore` and `FileTokenStore` answer at once; a `FileTokenStore`
    /// may read from its files on the calling thread meanwhile (a page of its memory-mapped index
    /// file, or commits another process made), as it does for `validate`.
    ///
    /// ```swift
    /// let result: ValidationResult
    /// if let immediate = try manager.validateImmediately(authorization: header) {
    ///     result = immediate
    /// } else {
    ///     result = try await manager.validate(authorization: header)
    /// }
    /// ```
    ///
    /// A valid use is recorded for ``run()`` to write. A use noted just as `run()` stops is written
    /// by its final flush, or else by the next batch another validation starts, or
    /// ``flushUsage()``.
    ///
    /// - Returns: The result, audited and recorded as `validate` records it, or `nil`.
    /// - Throws: Only when the store cannot be read.
    public func validateImmediately(
        authorization header: String?,
        accepting schemes: Set<AuthorizationCredentials.Scheme> = AuthorizationCredentials.Scheme.every,
        requiring scopes: Set<String> = [],
        from address: IPAddress? = nil
    ) throws -> ValidationResult? {
        guard hasherBound.load(ordering: .acquiring), isRunning else { return nil }
        let now = try currentDate()
        guard var header else { return reject(.missingCredentials, at: now, address: address) }
        let outcome = header.withUTF8 { bytes in check(header: bytes, accepting: schemes) }
        switch outcome {
        case .refused(let reason, let owner, let detail):
            return reject(reason, at: now, owner: loggable(owner), detail: detail, address: address)
        case .presented(let owner, let token):
            let digest: TokenDigest
            switch token {
            case .malformed(let error):
                return rejectMalformed(error, owner: owner, from: address, at: now)
            case .digest(let presentedDigest):
                digest = presentedDigest
            }
            let request = validationRequest(owner: owner, scopes: scopes, address: address, now: now)
            let outcome: IndexValidation
            if let indexedStore {
                outcome = try indexedStore.immediateValidation(of: digest, request, recordingRejections: hasAuditSink)
            } else {
                guard let immediate = try immediateOutcome(digest, request) else { return nil }
                outcome = immediate
            }
            let record: TokenRecord
            switch outcome {
            case .valid(let valid): record = valid
            case .notFound: return refuse(.unknown, record: nil, owner: owner, from: address, at: now)
            case .rejected(let problem, let rejected):
                return refuse(problem, record: rejected, owner: owner, from: address, at: now)
            }
            // While run() runs, it writes the batch this use may start.
            _ = usage.noteUse(of: record, at: now)
            warnIfExpiringSoon(record, at: now)
            return .valid(record)
        }
    }

    /// Writes pending last-used times now, after any write already under way. ``run()`` does this
    /// when it is cancelled; call it at shutdown if you do not use ``run()``.
    public func flushUsage() async throws {
        try await usage.flush()
    }

    // MARK: Helpers

    /// A presented token after the checks that need no store: its digest, or why its format is wrong.
    private enum PresentedToken {
        case digest(TokenDigest)
        case malformed(TokenFormatError)
    }

    /// What an `Authorization` header came to before the store is asked.
    private enum HeaderOutcome {
        /// Refused without a look-up, with the claimed owner (if any) and a detail for the audit.
        case refused(RejectionReason, owner: String?, detail: String?)
        /// A token to look up, with the owner the header claimed.
        case presented(owner: String?, token: PresentedToken)
    }

    /// Checks a token's format and hashes it, from its bytes in place.
    private func check(token bytes: UnsafeBufferPointer<UInt8>) -> PresentedToken {
        do {
            try configuration.format.validate(bytes: bytes)
        } catch {
            return .malformed(error)
        }
        return .digest(configuration.hasher.digest(UnsafeRawBufferPointer(bytes)))
    }

    /// Parses a header's bytes in one pass and checks and hashes its token in place.
    private func check(
        header bytes: UnsafeBufferPointer<UInt8>,
        accepting schemes: Set<AuthorizationCredentials.Scheme>
    ) -> HeaderOutcome {
        let parts: AuthorizationHeaderParts
        do {
            parts = try AuthorizationHeaderParts(parsing: bytes)
        } catch {
            switch error.reason {
            case .empty: return .refused(.missingCredentials, owner: nil, detail: nil)
            case .unsupportedScheme: return .refused(.schemeNotAccepted, owner: nil, detail: error.reason.code)
            default: return .refused(.malformed, owner: nil, detail: error.reason.code)
            }
        }
        let user = parts.user.map { String(decoding: bytes[$0], as: UTF8.self) }
        // Every scheme (the default) needs no hashing of the set.
        guard schemes.count == AuthorizationCredentials.Scheme.allCases.count || schemes.contains(parts.scheme) else {
            return .refused(.schemeNotAccepted, owner: user, detail: parts.scheme.rawValue)
        }
        return .presented(owner: user, token: check(token: UnsafeBufferPointer(rebasing: bytes[parts.token])))
    }

    /// Looks a checked token up and applies every rule: the part of validation after the bytes.
    /// Inlined into both `validate` methods, so that a validation the store answers at once makes
    /// no asynchronous call of its own.
    @inline(__always)
    private func decide(
        _ presented: PresentedToken,
        owner: String?,
        requiring scopes: Set<String>,
        from address: IPAddress?,
        at now: Date
    ) async throws -> ValidationResult {
        let digest: TokenDigest
        switch presented {
        case .malformed(let error):
            return rejectMalformed(error, owner: owner, from: address, at: now)
        case .digest(let presentedDigest):
            digest = presentedDigest
        }
        if !hasherBound.load(ordering: .acquiring) { try await bindHasherIfNeeded() }
        let request = validationRequest(owner: owner, scopes: scopes, address: address, now: now)
        // The valid path stays inline here, the outcome in one local: routing it through a
        // shared helper that returns the result measured 1–4 % slower (larger copies across the
        // `await` below).
        let outcome: IndexValidation
        if let indexedStore {
            outcome = try indexedStore.immediateValidation(of: digest, request, recordingRejections: hasAuditSink)
        } else if let immediate = try immediateOutcome(digest, request) {
            outcome = immediate
        } else if let found = try await store.record(forDigest: digest) {
            outcome = request.problem(for: found).map { .rejected($0, found) } ?? .valid(found)
        } else {
            outcome = .notFound
        }
        let record: TokenRecord
        switch outcome {
        case .valid(let valid): record = valid
        case .notFound: return refuse(.unknown, record: nil, owner: owner, from: address, at: now)
        case .rejected(let problem, let rejected):
            return refuse(problem, record: rejected, owner: owner, from: address, at: now)
        }
        if usage.noteUse(of: record, at: now) && !isRunning {
            // Without run(), the use that starts a batch writes it.
            await writeUsage()
        }
        warnIfExpiringSoon(record, at: now)
        return .valid(record)
    }

    /// What a validation asks of the store and its rules.
    @inline(__always)
    private func validationRequest(
        owner: String?,
        scopes: Set<String>,
        address: IPAddress?,
        now: Date
    ) -> ValidationRequest {
        ValidationRequest(owner: owner, scopes: scopes, address: address, now: now, maximumIdleTime: idleLimit)
    }

    /// A store of another kind's answer with every rule applied, when it answers at once
    /// (``TokenStore/immediateRecord(forDigest:)``); `nil` when it must be asked, with `await`.
    private func immediateOutcome(_ digest: TokenDigest, _ request: ValidationRequest) throws -> IndexValidation? {
        switch try store.immediateRecord(forDigest: digest) {
        case .found(let found): request.problem(for: found).map { .rejected($0, found) } ?? .valid(found)
        case .notFound: .notFound
        case .unavailable: nil
        }
    }

    /// Refuses a token whose format is wrong, audited.
    private func rejectMalformed(
        _ error: TokenFormatError,
        owner: String?,
        from address: IPAddress?,
        at now: Date
    ) -> ValidationResult {
        reject(.malformed, at: now, owner: loggable(owner), detail: error.reason.code, address: address)
    }

    /// Refuses a token the store did not find (``RejectionReason/unknown``), or whose record
    /// breaks a rule, audited (naming the claimed owner when it is the wrong one).
    private func refuse(
        _ problem: RejectionReason,
        record: TokenRecord?,
        owner: String?,
        from address: IPAddress?,
        at now: Date
    ) -> ValidationResult {
        let detail = problem == .wrongOwner ? loggable(owner).map { "claimed owner \(quoted($0))" } : nil
        return reject(problem, at: now, record: record, owner: loggable(owner), detail: detail, address: address)
    }

    /// Audits that a valid token expires soon, when it does and the manager warns of that.
    @inline(__always)
    private func warnIfExpiringSoon(_ record: TokenRecord, at now: Date) {
        if let expiryWarnings, hasAuditSink, expiryWarnings.shouldWarn(about: record, at: now) {
            audit(TokenAuditEvent(.expiringSoon, time: now, record: record))
        }
    }

    /// The clock's current date, rounded to the microsecond as stores keep dates.
    func currentDate() throws(TokenKitError) -> Date {
        try TokenStoreRules.normalized(configuration.clock.now())
    }

    /// Binds the hasher to the store before the manager's first use of it; afterwards costs one
    /// atomic load. Concurrent first calls may each bind: binding is idempotent.
    func bindHasherIfNeeded() async throws {
        guard !hasherBound.load(ordering: .acquiring) else { return }
        try await store.bindHasher(configuration.hasher.identity)
        hasherBound.store(true, ordering: .releasing)
    }

    /// The owner a client claimed, fit for an audit event: a client that swapped user and token
    /// (`cpanel TOKEN:alice`) must not put its secret in the log.
    private func loggable(_ claimedOwner: String?) -> String? {
        guard let claimedOwner else { return nil }
        do {
            try configuration.format.validate(claimedOwner)
            return "<redacted: a token>"
        } catch {
            return claimedOwner
        }
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

    /// Audits `event` about a by-name change's token, and the same event about each predecessor
    /// the change also applied to.
    func audit(_ change: LineageChange, _ event: @autoclosure () -> TokenAuditEvent) {
        guard let sink = configuration.auditSink else { return }
        let event = event()
        sink.record(event)
        for predecessor in change.predecessors {
            sink.record(event.about(predecessor, detail: "rotated-out predecessor of \(change.token.id)"))
        }
    }
}
