extension TokenManager {
    /// How a ``TokenManager`` issues and checks tokens. Every setting has a documented default.
    public struct Configuration: Sendable {
        /// The token text format. Default: ``TokenFormat/default`` (`tk_`, 256 random bits).
        public var format: TokenFormat
        /// How secrets become stored digests. Default: ``SHA256Hasher``.
        public var hasher: any TokenHasher
        /// The rule for token names. Default: ``NamePolicy/cPanel``.
        public var namePolicy: NamePolicy
        /// Which expiry dates are allowed. Default: ``ExpiryPolicy/default`` (one year unless asked
        /// otherwise; "never" allowed on request).
        public var expiryPolicy: ExpiryPolicy
        /// The most live (neither revoked nor expired) tokens one owner may hold. Default: `nil`,
        /// no limit.
        public var maximumLiveTokensPerOwner: Int?
        /// How often, at most, a token's last-used time is written; also how often ``TokenManager/run()``
        /// writes them. Default: one minute.
        public var lastUsedInterval: Duration
        /// How often ``TokenManager/run()`` runs store maintenance (``TokenStore/performMaintenance()``),
        /// such as reporting and retrying a failed compaction. Default: one minute.
        public var maintenanceInterval: Duration
        /// Reject tokens unused for longer than this (GitHub revokes tokens unused for a year), with
        /// ``RejectionReason/idle``. A token never used counts from its creation. Default: `nil`,
        /// no limit. Keep it much longer than ``lastUsedInterval``, the precision of last-used times.
        public var maximumIdleTime: Duration?
        /// Emit ``TokenAuditEvent/Kind/expiringSoon`` when a token that validates expires within this
        /// window ("your token expires in 7 days"). Default: `nil`, no warnings.
        public var expiryWarningWindow: Duration?
        /// The source of the current time. Default: ``SystemClock``.
        public var clock: any TokenClock
        /// Where audit events go. Default: `nil`, nowhere.
        public var auditSink: (any TokenAuditSink)?

        /// Creates a configuration; every parameter has the default described on its property.
        public init(
            format: TokenFormat = .default,
            hasher: any TokenHasher = SHA256Hasher(),
            namePolicy: NamePolicy = .cPanel,
            expiryPolicy: ExpiryPolicy = .default,
            maximumLiveTokensPerOwner: Int? = nil,
            lastUsedInterval: Duration = .seconds(60),
            maintenanceInterval: Duration = .seconds(60),
            maximumIdleTime: Duration? = nil,
            expiryWarningWindow: Duration? = nil,
            clock: any TokenClock = SystemClock(),
            auditSink: (any TokenAuditSink)? = nil
        ) {
            self.format = format
            self.hasher = hasher
            self.namePolicy = namePolicy
            self.expiryPolicy = expiryPolicy
            self.maximumLiveTokensPerOwner = maximumLiveTokensPerOwner
            self.lastUsedInterval = lastUsedInterval
            self.maintenanceInterval = maintenanceInterval
            self.maximumIdleTime = maximumIdleTime
            self.expiryWarningWindow = expiryWarningWindow
            self.clock = clock
            self.auditSink = auditSink
        }
    }
}
