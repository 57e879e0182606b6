import Foundation

/// Everything a store knows about one token — never its secret.
///
/// The secret is gone once ``IssuedToken`` has been handed out; the record keeps only its
/// ``digest``. A record with no ``scopes`` has full access, like cPanel's `has_full_access`; one with
/// no ``allowedNetworks`` may be used from anywhere.
///
/// A record is `Codable` with stable snake-case keys, so a SQL or key-value store can map it
/// without guessing; see ``TokenRecord/CodingKeys``.
public struct TokenRecord: Hashable, Sendable {
    /// The token's stable, non-secret id.
    public let id: TokenID
    /// The account the token acts for.
    public let owner: String
    /// The token's name, unique among its owner's tokens that are not revoked.
    public var name: String
    /// When the token was created.
    public let createdAt: Date
    /// When the token stops validating, or `nil` if it never expires.
    public var expiresAt: Date?
    /// What the token may do; empty means full access.
    public var scopes: Set<String>
    /// The addresses the token may be used from; empty means anywhere.
    public var allowedNetworks: [IPNetwork]
    /// When the token last validated, as recorded by the manager (at most once per interval).
    public var lastUsedAt: Date?
    /// When the token was revoked, or `nil` if it has not been. A date in the future schedules the
    /// revocation: a rotated token keeps validating until its grace period ends.
    public var revokedAt: Date?
    /// When the token was disabled, or `nil` while it is enabled. A disabled token is kept, listed
    /// and can be enabled again, but does not validate.
    public var disabledAt: Date?
    /// The digest of the token's secret: the only form of the secret that is ever stored.
    public let digest: TokenDigest
    /// The id of the first token of this token's rotation lineage: its own id, unless it was issued
    /// by rotating another token, whose lineage it continues. Revoking, disabling, deleting or
    /// changing the limits of a token by name applies to every record of its lineage still inside
    /// its rotation grace period.
    public let lineageID: TokenID

    /// Creates a record. Stores use this to rebuild records they have read back.
    ///
    /// - Parameter lineageID: The record's lineage; `nil` (the default) starts a new one, the
    ///   record's own id.
    public init(
        id: TokenID,
        owner: String,
        name: String,
        createdAt: Date,
        expiresAt: Date?,
        scopes: Set<String> = [],
        allowedNetworks: [IPNetwork] = [],
        lastUsedAt: Date? = nil,
        revokedAt: Date? = nil,
        disabledAt: Date? = nil,
        digest: TokenDigest,
        lineageID: TokenID? = nil
    ) {
        self.id = id
        self.owner = owner
        self.name = name
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.scopes = scopes
        self.allowedNetworks = allowedNetworks
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
        self.disabledAt = disabledAt
        self.digest = digest
        self.lineageID = lineageID ?? id
    }

    /// Whether the token counts as revoked at `date`.
    public func isRevoked(at date: Date) -> Bool {
        guard let revokedAt else { return false }
        return revokedAt <= date
    }

    /// Whether the token's expiry date has passed at `date`.
    public func isExpired(at date: Date) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt <= date
    }

    /// Whether the token is disabled.
    public var isDisabled: Bool { disabledAt != nil }

    /// The token's status at `date`. Revocation wins over expiry, and expiry over being disabled.
    public func status(at date: Date) -> TokenStatus {
        if isRevoked(at: date) { return .revoked }
        if isExpired(at: date) { return .expired }
        if isDisabled { return .disabled }
        return .active
    }

    /// Whether the token holds the name in its owner's namespace: it is not revoked and not being
    /// revoked. Stores enforce that no two such records of one owner share a name.
    public var holdsName: Bool { revokedAt == nil }

    /// Whether the token grants every scope in `required`.
    public func grants(_ required: Set<String>) -> Bool {
        scopes.isEmpty || required.isSubset(of: scopes)
    }

    /// Whether the token may be used from `address`. A token with an allow-list refuses an unknown
    /// address.
    public func allows(_ address: IPAddress?) -> Bool {
        if allowedNetworks.isEmpty { return true }
        guard let address else { return false }
        return allowedNetworks.allow(address)
    }
}
