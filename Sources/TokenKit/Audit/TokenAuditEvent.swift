import Foundation

/// Something that happened to a token, for the embedding server's audit log.
///
/// An event never holds a token's secret or digest: ids, names and owners only.
public struct TokenAuditEvent: Hashable, Sendable, CustomStringConvertible {
    /// What happened.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        /// The kind's stable name, such as `"token.created"`.
        public let rawValue: String

        private init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        /// A token was created.
        public static let created = Kind("token.created")
        /// A token was renamed; ``TokenAuditEvent/previousName`` holds its old name.
        public static let renamed = Kind("token.renamed")
        /// A token was revoked.
        public static let revoked = Kind("token.revoked")
        /// A presented token was rejected; ``TokenAuditEvent/rejection`` says why.
        public static let validationFailed = Kind("token.validation_failed")
        /// A token's expiry, scopes or allowed networks were changed.
        public static let updated = Kind("token.updated")
        /// A token was rotated: ``TokenAuditEvent/tokenID`` is the new token,
        /// ``TokenAuditEvent/previousTokenID`` the old one, which validates until its grace ends.
        public static let rotated = Kind("token.rotated")
        /// A token was disabled.
        public static let disabled = Kind("token.disabled")
        /// A disabled token was enabled again.
        public static let enabled = Kind("token.enabled")
        /// A token was deleted, by ``TokenManager/delete(owner:name:)`` or by a purge.
        public static let deleted = Kind("token.deleted")
        /// A token that just validated expires within the warning window; emitted at most once per
        /// token and expiry date by each manager.
        public static let expiringSoon = Kind("token.expiring_soon")
        /// A token was reported leaked (``TokenManager/revokeLeakedTokens(_:)``) and revoked, with
        /// its predecessors in grace; ``TokenAuditEvent/detail`` says where it was found.
        public static let leaked = Kind("token.leaked")
        /// Background work — writing last-used times, or store maintenance such as compaction —
        /// failed; ``TokenAuditEvent/detail`` says what and why. It is retried with backoff, and
        /// ``TokenManager/health`` keeps the last failure.
        public static let backgroundFailure = Kind("store.background_failure")

        /// The stable name.
        public var description: String { rawValue }
    }

    /// What happened.
    public let kind: Kind
    /// When it happened.
    public let time: Date
    /// The account concerned, when known (an unknown token has no known owner).
    public let owner: String?
    /// The token's id, when known.
    public let tokenID: TokenID?
    /// The token's name, when known (after a rename, the new name).
    public let tokenName: String?
    /// A renamed token's previous name.
    public let previousName: String?
    /// A rotated token's predecessor.
    public let previousTokenID: TokenID?
    /// Why validation failed.
    public let rejection: RejectionReason?
    /// More detail for people, such as which part of a malformed token was wrong. Never a secret.
    public let detail: String?
    /// The client's address, when the server passed one to validation.
    public let address: IPAddress?

    init(
        _ kind: Kind,
        time: Date,
        owner: String? = nil,
        tokenID: TokenID? = nil,
        tokenName: String? = nil,
        previousName: String? = nil,
        previousTokenID: TokenID? = nil,
        rejection: RejectionReason? = nil,
        detail: String? = nil,
        address: IPAddress? = nil
    ) {
        self.kind = kind
        self.time = time
        self.owner = owner
        self.tokenID = tokenID
        self.tokenName = tokenName
        self.previousName = previousName
        self.previousTokenID = previousTokenID
        self.rejection = rejection
        self.detail = detail
        self.address = address
    }

    init(
        _ kind: Kind,
        time: Date,
        record: TokenRecord,
        previousName: String? = nil,
        previousTokenID: TokenID? = nil,
        detail: String? = nil
    ) {
        self.init(
            kind,
            time: time,
            owner: record.owner,
            tokenID: record.id,
            tokenName: record.name,
            previousName: previousName,
            previousTokenID: previousTokenID,
            detail: detail
        )
    }

    /// The same event about another record, with `detail`: for the predecessors a by-name change
    /// also applied to.
    func about(_ record: TokenRecord, detail: String) -> TokenAuditEvent {
        TokenAuditEvent(kind, time: time, record: record, detail: detail)
    }

    /// A one-line summary for logs, such as
    /// `token.renamed owner="alice" id=… name="deploy" previous="ci"`.
    public var description: String {
        var parts = [kind.rawValue]
        if let owner { parts.append("owner=\(quoted(owner))") }
        if let tokenID { parts.append("id=\(tokenID)") }
        if let tokenName { parts.append("name=\(quoted(tokenName))") }
        if let previousName { parts.append("previous=\(quoted(previousName))") }
        if let previousTokenID { parts.append("previous_id=\(previousTokenID)") }
        if let rejection { parts.append("reason=\(rejection)") }
        if let detail { parts.append("detail=\(quoted(detail))") }
        if let address { parts.append("address=\(address)") }
        return parts.joined(separator: " ")
    }
}
