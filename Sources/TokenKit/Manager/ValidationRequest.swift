import Foundation

/// What a presented token is checked against once it is found, and the one place the order of
/// those checks is written: revocation, expiry, disabled, idle time, owner, address, scopes.
///
/// The manager applies it to a record; `TokenIndex` applies it to its inline entry without building
/// a record. Both go through ``problem(revokedAt:expiresAt:isDisabled:idleSince:ownerIs:allows:grants:)``.
struct ValidationRequest {
    /// The owner the client claimed, if any.
    var owner: String?
    var scopes: Set<String>
    var address: IPAddress?
    var now: Date
    /// ``TokenManager/Configuration/maximumIdleTime`` in seconds, if set.
    var maximumIdleTime: Double?

    /// Why a token with these fields is refused, or `nil` when it is valid. Dates are seconds since
    /// 2001, NaN for none. The three closures run only when their check is reached.
    @inline(__always)
    func problem(
        revokedAt: Double,
        expiresAt: Double,
        isDisabled: Bool,
        idleSince: Double,
        ownerIs: (String) -> Bool,
        allows: (IPAddress?) -> Bool,
        grants: (Set<String>) -> Bool
    ) -> RejectionReason? {
        let now = now.timeIntervalSinceReferenceDate
        // NaN compares false: a token with no revocation or expiry date is neither.
        if revokedAt <= now { return .revoked }
        if expiresAt <= now { return .expired }
        if isDisabled { return .disabled }
        if let maximumIdleTime, now - idleSince > maximumIdleTime { return .idle }
        if let owner, !ownerIs(owner) { return .wrongOwner }
        if !allows(address) { return .addressNotAllowed }
        if !grants(scopes) { return .missingScope }
        return nil
    }

    /// Why `record` is refused, or `nil` when it is valid.
    ///
    /// A record from a store of a user's own is not held to ``TokenStoreRules``, so a date in it
    /// may be NaN. Such a date counts as long past — revoked, expired, idle — never as none: a
    /// damaged record fails closed.
    @inline(__always)
    func problem(for record: TokenRecord) -> RejectionReason? {
        problem(
            revokedAt: record.revokedAt.map(Self.failingClosed) ?? .nan,
            expiresAt: record.expiresAt.map(Self.failingClosed) ?? .nan,
            isDisabled: record.isDisabled,
            idleSince: Self.failingClosed(record.lastUsedAt ?? record.createdAt),
            ownerIs: { record.owner == $0 },
            allows: record.allows,
            grants: record.grants
        )
    }

    /// `date` in seconds since 2001, or minus infinity when it is NaN.
    @inline(__always)
    private static func failingClosed(_ date: Date) -> Double {
        let seconds = date.timeIntervalSinceReferenceDate
        return seconds.isNaN ? -.infinity : seconds
    }
}
