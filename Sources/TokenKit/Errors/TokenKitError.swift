/// The error TokenKit's management operations throw.
///
/// Every error has a stable ``code`` to branch on and a ``message`` that says what went wrong and
/// what to do, worded as cPanel words it where cPanel has a message. New codes may be added in any
/// release, so match the ones you handle and keep a default:
///
/// ```swift
/// do {
///     try await manager.rename(owner: "alice", name: "ci", to: "deploy")
/// } catch let error as TokenKitError where error.code == .duplicateName {
///     print(error.message)   // An API token with the name "deploy" already exists.
/// }
/// ```
///
/// Errors compare equal, and hash, by ``code`` alone. Storage errors carry the system's error as
/// their ``underlyingError``. ``Code/suggestedHTTPStatus`` maps every code to the status an HTTP
/// adapter answers with (the table is in the article *Errors and HTTP statuses*).
public struct TokenKitError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable error code such as `duplicate_name`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable text, suitable for logs and API responses.
        public let rawValue: String

        private init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        /// The stable name.
        public var description: String { rawValue }

        /// A token name breaks the ``NamePolicy``.
        public static let invalidName = Code("invalid_name")
        /// The owner's other live token already has this name.
        public static let duplicateName = Code("duplicate_name")
        /// A rename asked for the name the token already has.
        public static let sameName = Code("same_name")
        /// No live token of the owner has this name.
        public static let tokenNotFound = Code("token_not_found")
        /// An owner (account) name is empty, too long, or holds a control character or `:`.
        public static let invalidOwner = Code("invalid_owner")
        /// A scope name is empty, too long, or holds a character outside `[A-Za-z0-9_.:-]`.
        public static let invalidScope = Code("invalid_scope")
        /// An entry of an allow-list is not an IP address or CIDR range.
        public static let invalidNetwork = Code("invalid_network")
        /// An allow-list holds more than ``TokenStoreRules/maximumAllowedNetworks`` entries.
        public static let tooManyNetworks = Code("too_many_networks")
        /// The expiry date is not in the future.
        public static let expiryInPast = Code("expiry_in_past")
        /// The ``ExpiryPolicy`` refuses tokens that never expire.
        public static let neverExpiringRefused = Code("never_expiring_refused")
        /// The expiry date is further away than the ``ExpiryPolicy`` allows.
        public static let lifetimeTooLong = Code("lifetime_too_long")
        /// The owner already holds as many live tokens as the policy allows.
        public static let tokenLimitReached = Code("token_limit_reached")
        /// A store already holds a record with this id or digest.
        public static let duplicateToken = Code("duplicate_token")
        /// A rotation's grace period is negative.
        public static let invalidGracePeriod = Code("invalid_grace_period")
        /// A value passed to configure TokenKit is out of range.
        public static let invalidConfiguration = Code("invalid_configuration")
        /// A store could not be read or written.
        public static let storageFailure = Code("storage_failure")
        /// A store file is damaged; its message names the offset and how to recover.
        public static let storeCorrupted = Code("store_corrupted")
        /// Another process holds the store's lock for longer than the timeout.
        public static let storeLocked = Code("store_locked")
        /// A store file can be read or written by other users.
        public static let insecurePermissions = Code("insecure_permissions")
        /// A date is not finite, lies outside ``TokenStoreRules/dateRange``, or is not a whole
        /// microsecond.
        public static let invalidDate = Code("invalid_date")
        /// A store was handed something the ``TokenStore`` contract forbids, or broke the contract
        /// itself: a bug in the caller or the store, never a user's mistake.
        public static let contractViolation = Code("contract_violation")
        /// The store's tokens were hashed with another algorithm or key than the manager's.
        public static let hasherMismatch = Code("hasher_mismatch")
        /// The storage device is full (or a quota is reached).
        public static let storageFull = Code("storage_full")
        /// The system refused access to a store file or directory.
        public static let permissionDenied = Code("permission_denied")
        /// The store sits on read-only storage, or was opened read-only, and cannot be written.
        public static let readOnlyStorage = Code("read_only_storage")
        /// The store's file or lock file was deleted or replaced while the store was open: the
        /// handle stops serving (it might otherwise accept revoked tokens or lose writes); reopen
        /// the store.
        public static let storeReplaced = Code("store_replaced")
        /// A leak report is not the JSON array of matches it should be, or holds too many.
        public static let malformedLeakReport = Code("malformed_leak_report")

        /// The HTTP status an adapter answers with for an error of this code: 400 for input a
        /// client can correct, 404 for a token that does not exist, 409 for a conflict with
        /// stored tokens, 503 when storage is unavailable (retry later), and 500 for a server's
        /// own misconfiguration or a bug. Rejected tokens are not errors: they answer 401
        /// (``AuthenticationFailure``) or 403 (``RejectionReason/missingScope``).
        public var suggestedHTTPStatus: Int {
            switch self {
            case .tokenNotFound: 404
            case .duplicateName, .duplicateToken, .tokenLimitReached: 409
            case .storageFailure, .storeLocked, .storeCorrupted, .storageFull, .readOnlyStorage, .storeReplaced: 503
            case .invalidConfiguration, .contractViolation, .hasherMismatch, .insecurePermissions, .permissionDenied:
                500
            default: 400
            }
        }
    }

    /// What kind of error this is.
    public let code: Code
    /// What went wrong and what to do about it, for people.
    public let message: String
    /// The error that caused this one, such as the system's error for a failed write.
    public let underlyingError: (any Error)?

    /// Creates an error. Stores written outside TokenKit use this to report their own failures.
    ///
    /// - Parameters:
    ///   - code: The error's code.
    ///   - message: A sentence that says what went wrong and what to do.
    ///   - underlyingError: The error that caused this one, if any.
    public init(_ code: Code, _ message: String, underlyingError: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlyingError = underlyingError
    }

    /// The message followed by the code in brackets.
    public var description: String { "\(message) [\(code)]" }

    /// Whether both errors have the same ``code``.
    public static func == (lhs: TokenKitError, rhs: TokenKitError) -> Bool { lhs.code == rhs.code }

    /// Hashes the ``code``.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

extension TokenKitError {
    /// The error a store throws when a write would give an owner two live tokens of one name.
    ///
    /// - Parameters:
    ///   - name: The contested name.
    ///   - renaming: Whether the write was a rename (cPanel words the two cases differently).
    public static func duplicateName(_ name: String, renaming: Bool) -> TokenKitError {
        renaming
            ? TokenKitError(.duplicateName, "An API token with the name \(quoted(name)) already exists.")
            : TokenKitError(.duplicateName, "A conflicting API token with the name \(quoted(name)) already exists.")
    }

    /// The error a store throws for an id it does not hold.
    public static func tokenNotFound(id: TokenID) -> TokenKitError {
        TokenKitError(.tokenNotFound, "The API token with id \(id) does not exist.")
    }

    /// The error a store throws when an owner's live-token cap is reached.
    public static func tokenLimitReached(owner: String, limit: Int) -> TokenKitError {
        TokenKitError(
            .tokenLimitReached,
            "\(quoted(owner)) already has \(limit) active API tokens, the most allowed; revoke one before creating another."
        )
    }

    /// The error a store throws when a record with the same id or digest is already stored.
    public static func duplicateToken(id: TokenID) -> TokenKitError {
        TokenKitError(
            .duplicateToken,
            "A token with id \(id) or the same digest is already stored; generate a new token."
        )
    }
}

extension TokenKitError {
    /// The error a store throws when no token of `owner` holds `name`.
    public static func tokenNotFound(owner: String, name: String) -> TokenKitError {
        TokenKitError(.tokenNotFound, "The API token \(quoted(name)) does not exist.")
    }

    /// The error for a breach of the ``TokenStore`` contract.
    ///
    /// - Parameter message: What was asked or done, and what the contract requires.
    public static func contractViolation(_ message: String) -> TokenKitError {
        TokenKitError(.contractViolation, "TokenStore contract violation: \(message)")
    }

    /// The error a store throws when it is used with another hasher than the one its digests were
    /// made with.
    public static func hasherMismatch(stored: TokenHasherIdentity, given: TokenHasherIdentity) -> TokenKitError {
        TokenKitError(
            .hasherMismatch,
            "The token store's digests were made with \(stored), but this manager hashes with \(given); configure the original hasher and key, or every token would be unknown."
        )
    }
}

extension TokenKitError {
    static func sameName(_ name: String) -> TokenKitError {
        TokenKitError(.sameName, "The API token already has the name \(quoted(name)); choose a different new name.")
    }
}
