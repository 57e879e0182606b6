import Foundation

/// A change to a token's limits — expiry, scopes, allowed networks — as
/// ``TokenStore/changeLimits(_:owner:name:now:)`` applies it. A `nil` field is left as it is.
public struct TokenLimitsChange: Hashable, Sendable {
    /// A new expiry date.
    public enum Expiry: Hashable, Sendable {
        /// The token never expires.
        case never
        /// The token expires at this date.
        case at(Date)
    }

    /// The new expiry, or `nil` to keep the current one.
    public var expiry: Expiry?
    /// The new scopes (empty means full access), or `nil` to keep the current ones.
    public var scopes: Set<String>?
    /// The new allow-list (empty means anywhere), or `nil` to keep the current one.
    public var allowedNetworks: [IPNetwork]?

    /// Creates a change; every field defaults to "keep".
    public init(expiry: Expiry? = nil, scopes: Set<String>? = nil, allowedNetworks: [IPNetwork]? = nil) {
        self.expiry = expiry
        self.scopes = scopes
        self.allowedNetworks = allowedNetworks
    }
}

/// What a rotation gives the token that takes over a name: its new identity. Everything else —
/// owner, name, scopes, allowed networks, disabled state, lineage — the store copies from the token
/// it replaces, atomically, with ``TokenStoreRules/successor(of:_:)``.
public struct TokenSuccessor: Hashable, Sendable {
    /// The new token's id.
    public var id: TokenID
    /// The digest of the new secret.
    public var digest: TokenDigest
    /// When the new token was created.
    public var createdAt: Date
    /// A new expiry, or `nil` to keep the replaced token's.
    public var expiry: TokenLimitsChange.Expiry?

    /// Creates a successor.
    public init(id: TokenID, digest: TokenDigest, createdAt: Date, expiry: TokenLimitsChange.Expiry? = nil) {
        self.id = id
        self.digest = digest
        self.createdAt = createdAt
        self.expiry = expiry
    }
}

/// The records a by-name store operation wrote: the token that holds (or held) the name, and the
/// rotated-out predecessors of its lineage, still in their grace period, that the change also
/// applied to.
public struct LineageChange: Hashable, Sendable {
    /// The token addressed by owner and name, as written (after a rotation: the new token).
    public var token: TokenRecord
    /// The predecessors the change also applied to, as written, oldest first (after a rotation:
    /// the replaced token).
    public var predecessors: [TokenRecord]

    /// Creates a change.
    public init(token: TokenRecord, predecessors: [TokenRecord] = []) {
        self.token = token
        self.predecessors = predecessors
    }

    /// Every record written: the token first, then its predecessors.
    public var records: [TokenRecord] { [token] + predecessors }
}
