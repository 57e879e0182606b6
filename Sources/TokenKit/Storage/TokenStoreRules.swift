import Foundation

/// The rules of the ``TokenStore`` contract that can be checked or computed without a store:
/// input limits, storable dates, and what each typed operation writes. Every store — TokenKit's
/// and yours — calls these, so that all stores refuse the same input with the same error and
/// derive the same records.
///
/// The rules that need the store's data (unique ids, digests and names, the live-token cap) are
/// written in ``TokenStore``'s contract; a database enforces them with constraints and
/// transactions, and throws the errors built by ``TokenKitError/duplicateName(_:renaming:)``,
/// ``TokenKitError/duplicateToken(id:)``, ``TokenKitError/tokenLimitReached(owner:limit:)`` and
/// ``TokenKitError/tokenNotFound(owner:name:)``.
///
/// | Violation | Error code |
/// | --- | --- |
/// | Owner empty, over 255 UTF-8 bytes, or with a control character or `:` | ``TokenKitError/Code/invalidOwner`` |
/// | Name empty, over 255 UTF-8 bytes, or with a control character | ``TokenKitError/Code/invalidName`` |
/// | Over 100 scopes, or a scope not 1–64 characters of `A-Z a-z 0-9 _ . : -` | ``TokenKitError/Code/invalidScope`` |
/// | Over 100 allowed networks | ``TokenKitError/Code/tooManyNetworks`` |
/// | A date not finite, outside ``dateRange``, or not a whole microsecond | ``TokenKitError/Code/invalidDate`` |
/// | An inserted record whose ``TokenRecord/lineageID`` is not its own id | ``TokenKitError/Code/contractViolation`` |
public enum TokenStoreRules {
    /// The longest owner, in UTF-8 bytes.
    public static let maximumOwnerLength = 255
    /// The longest name a store accepts, in UTF-8 bytes. A ``NamePolicy`` may be stricter.
    public static let maximumNameLength = 255
    /// The most scopes one token may hold.
    public static let maximumScopes = 100
    /// The longest scope, in characters.
    public static let maximumScopeLength = 64
    /// The most entries an allow-list may hold, as in cPanel's WHM.
    public static let maximumAllowedNetworks = 100

    /// The dates a store must be able to keep: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
    ///
    /// Within this range every date TokenKit writes is normalized (``normalized(_:)``): rounded to
    /// the microsecond, so that it survives a `Double` (as `Date` keeps it) and a 64-bit count of
    /// microseconds (``microsecondsSince1970(_:)`` and back) exactly. (Past about 2270 a `Double`
    /// cannot tell every microsecond apart; normalized dates still come back exactly.)
    public static let dateRange = Date(timeIntervalSince1970: 0)...Date(timeIntervalSince1970: 253_402_300_799)

    // MARK: Checking input

    /// Checks an owner: 1 to 255 UTF-8 bytes with no control character and no `:` (which separates
    /// the user from the token in `cpanel USER:TOKEN`).
    public static func checkOwner(_ owner: String) throws(TokenKitError) {
        guard !owner.isEmpty, owner.utf8.count <= maximumOwnerLength,
            !owner.unicodeScalars.contains(where: { $0 == ":" || isControl($0) })
        else {
            throw TokenKitError(
                .invalidOwner,
                "\(quoted(owner)) is not a valid owner: use 1 to \(maximumOwnerLength) bytes with no control characters and no \":\"."
            )
        }
    }

    /// Checks a name as a store must: 1 to 255 UTF-8 bytes with no control character. The
    /// manager's ``NamePolicy`` checks its own, usually stricter, rule first.
    public static func checkName(_ name: String) throws(TokenKitError) {
        guard !name.isEmpty, name.utf8.count <= maximumNameLength, !name.unicodeScalars.contains(where: isControl)
        else {
            throw TokenKitError(
                .invalidName,
                "\(quoted(name)) is not a valid token name: use 1 to \(maximumNameLength) bytes with no control characters."
            )
        }
    }

    /// Checks scopes: at most 100, each 1 to 64 characters of `A-Z a-z 0-9 _ . : -`.
    public static func checkScopes(_ scopes: Set<String>) throws(TokenKitError) {
        guard scopes.count <= maximumScopes else {
            throw TokenKitError(
                .invalidScope,
                "An API token may hold at most \(maximumScopes) scopes; you gave \(scopes.count)."
            )
        }
        for scope in scopes {
            guard (1...maximumScopeLength).contains(scope.utf8.count), scope.utf8.allSatisfy(isScopeCharacter) else {
                throw TokenKitError(
                    .invalidScope,
                    "\(quoted(scope)) is not a valid scope: use 1 to \(maximumScopeLength) characters of A-Z, a-z, 0-9, “_”, “.”, “:” and “-”."
                )
            }
        }
    }

    /// Checks an allow-list: at most ``maximumAllowedNetworks`` entries, none of them an IPv6 range
    /// based on an IPv4-mapped address (`::ffff:a.b.c.d`), which TokenKit keeps as the IPv4 range.
    ///
    /// Parsing never makes such a range; the check keeps a store from writing one that it would
    /// refuse to read back.
    public static func checkNetworks(_ networks: [IPNetwork]) throws(TokenKitError) {
        guard networks.count <= maximumAllowedNetworks else {
            throw TokenKitError(
                .tooManyNetworks,
                "An API token may allow at most \(maximumAllowedNetworks) IP addresses or ranges; you gave \(networks.count)."
            )
        }
        for network in networks where network.address.isIPv4MappedIPv6 {
            throw TokenKitError(
                .invalidNetwork,
                "\(network) is an IPv4-mapped IPv6 range; give the IPv4 range it maps instead."
            )
        }
    }

    /// Checks a date a store is asked to keep: finite, inside ``dateRange`` and a whole number of
    /// microseconds (``normalized(_:)`` makes one).
    public static func checkDate(_ date: Date) throws(TokenKitError) {
        guard isStorable(date) else {
            throw TokenKitError(
                .invalidDate,
                "\(describe(date)) cannot be stored: dates must lie between 1970-01-01 and 9999-12-31 (UTC) and be whole microseconds."
            )
        }
    }

    /// Checks every field of a record before it is inserted, and that it starts its own lineage.
    public static func checkNewRecord(_ record: TokenRecord) throws(TokenKitError) {
        try checkOwner(record.owner)
        try checkName(record.name)
        try checkScopes(record.scopes)
        try checkNetworks(record.allowedNetworks)
        for date in [record.createdAt, record.expiresAt, record.lastUsedAt, record.revokedAt, record.disabledAt] {
            if let date { try checkDate(date) }
        }
        guard record.lineageID == record.id else {
            throw TokenKitError.contractViolation(
                "A new token starts its own lineage: its lineageID must be its id; only rotate(owner:name:successor:revokingPreviousAt:) continues a lineage."
            )
        }
    }

    /// Checks a change of limits before it is applied.
    public static func checkLimits(_ change: TokenLimitsChange) throws(TokenKitError) {
        if case .at(let date) = change.expiry { try checkDate(date) }
        if let scopes = change.scopes { try checkScopes(scopes) }
        if let networks = change.allowedNetworks { try checkNetworks(networks) }
    }

    // MARK: Dates

    /// Whether a store can keep `date` exactly: see ``checkDate(_:)``.
    public static func isStorable(_ date: Date) -> Bool {
        isInRange(date) && self.date(microseconds(date)) == date
    }

    /// `date` rounded to the nearest microsecond: TokenKit rounds every date it writes this way.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/invalidDate`` for a date that is
    ///   not finite or lies outside ``dateRange``.
    public static func normalized(_ date: Date) throws(TokenKitError) -> Date {
        try self.date(microsecondsSince1970: microsecondsSince1970(date))
    }

    /// The date as whole microseconds since 1970-01-01T00:00:00Z, for stores that keep integers.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/invalidDate`` for a date that is
    ///   not finite or lies outside ``dateRange``.
    public static func microsecondsSince1970(_ date: Date) throws(TokenKitError) -> Int64 {
        guard isInRange(date) else {
            throw TokenKitError(
                .invalidDate,
                "\(describe(date)) cannot be stored: dates must lie between 1970-01-01 and 9999-12-31 (UTC)."
            )
        }
        return microseconds(date)
    }

    /// The date `microseconds` after 1970-01-01T00:00:00Z: the inverse of
    /// ``microsecondsSince1970(_:)``, exact for every date TokenKit writes.
    ///
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/invalidDate`` outside
    ///   ``dateRange``.
    public static func date(microsecondsSince1970 microseconds: Int64) throws(TokenKitError) -> Date {
        guard (0...253_402_300_799_000_000).contains(microseconds) else {
            throw TokenKitError(
                .invalidDate,
                "\(microseconds) microseconds since 1970 lies outside the dates a token store keeps (1970-01-01 to 9999-12-31)."
            )
        }
        return date(microseconds)
    }

    // MARK: What operations write

    /// Whether `record` is a rotated-out predecessor still inside its grace period at `date`: a
    /// by-name operation applies to such records of the name-holder's lineage too.
    public static func isInGrace(_ record: TokenRecord, at date: Date) -> Bool {
        guard let revokedAt = record.revokedAt else { return false }
        return revokedAt > date
    }

    /// Whether a by-name operation at `date` on `holder` (the record holding the name) also applies
    /// to `record`: a different record of the same owner and lineage, still in its grace period.
    public static func followsHolder(_ record: TokenRecord, _ holder: TokenRecord, at date: Date) -> Bool {
        record.id != holder.id && record.owner == holder.owner && record.lineageID == holder.lineageID
            && isInGrace(record, at: date)
    }

    /// Whether revoking `record` by id at `date` also applies to `other`: a record of the same owner
    /// and lineage still in its grace period that `record` (directly or not) replaced by rotation —
    /// every one, when `record` holds its name; otherwise those created no later than `record`.
    public static func precedes(_ other: TokenRecord, _ record: TokenRecord, at date: Date) -> Bool {
        other.id != record.id && other.owner == record.owner && other.lineageID == record.lineageID
            && isInGrace(other, at: date) && (record.holdsName || other.createdAt <= record.createdAt)
    }

    /// `record` revoked as of `date`: an earlier revocation stays, a later (scheduled) one moves
    /// forward to `date`.
    public static func revoked(_ record: TokenRecord, at date: Date) -> TokenRecord {
        var revoked = record
        revoked.revokedAt = min(record.revokedAt ?? date, date)
        return revoked
    }

    /// `record` disabled as of `date` (an earlier disabling date stays), or enabled when `date`
    /// is `nil`.
    public static func disabled(_ record: TokenRecord, at date: Date?) -> TokenRecord {
        var changed = record
        changed.disabledAt = date.map { min(record.disabledAt ?? $0, $0) }
        return changed
    }

    /// `record` with `change` applied.
    public static func limited(_ record: TokenRecord, by change: TokenLimitsChange) -> TokenRecord {
        var changed = record
        switch change.expiry {
        case .none: break
        case .never: changed.expiresAt = nil
        case .at(let date): changed.expiresAt = date
        }
        if let scopes = change.scopes { changed.scopes = scopes }
        if let networks = change.allowedNetworks { changed.allowedNetworks = networks }
        return changed
    }

    /// The record that rotation inserts in place of `holder`: the holder's owner, name, scopes,
    /// allowed networks, disabled state and lineage, with the successor's id, digest, creation
    /// date and (when it gives one) expiry.
    public static func successor(of holder: TokenRecord, _ successor: TokenSuccessor) -> TokenRecord {
        let expiresAt: Date? =
            switch successor.expiry {
            case .none: holder.expiresAt
            case .never: nil
            case .at(let date): date
            }
        return TokenRecord(
            id: successor.id,
            owner: holder.owner,
            name: holder.name,
            createdAt: successor.createdAt,
            expiresAt: expiresAt,
            scopes: holder.scopes,
            allowedNetworks: holder.allowedNetworks,
            disabledAt: holder.disabledAt,
            digest: successor.digest,
            lineageID: holder.lineageID
        )
    }

    /// Whether `record` counts against its owner's live-token cap at `date`: neither revoked nor
    /// expired.
    public static func isLive(_ record: TokenRecord, at date: Date) -> Bool {
        !record.isRevoked(at: date) && !record.isExpired(at: date)
    }

    /// Whether ``TokenStore/purge(before:)`` removes `record`: revoked or expired at or before
    /// `cutoff`.
    public static func isPurged(_ record: TokenRecord, before cutoff: Date) -> Bool {
        record.isRevoked(at: cutoff) || record.isExpired(at: cutoff)
    }

    /// Whether ``TokenStore/records(expiringBetween:and:)`` finds `record`: it expires in
    /// `start ..< end` and is not revoked at `start`.
    public static func isExpiring(_ record: TokenRecord, between start: Date, and end: Date) -> Bool {
        guard let expiresAt = record.expiresAt else { return false }
        return expiresAt >= start && expiresAt < end && !record.isRevoked(at: start)
    }

    /// Orders records oldest first, by creation date then id: the order of
    /// ``TokenStore/records(owner:)``.
    public static func isOlder(_ lhs: TokenRecord, than rhs: TokenRecord) -> Bool {
        (lhs.createdAt, lhs.id) < (rhs.createdAt, rhs.id)
    }

    /// Orders records soonest to expire first, by expiry date then id (a record that never expires
    /// last): the order of ``TokenStore/records(expiringBetween:and:)``.
    public static func expiresSooner(_ lhs: TokenRecord, than rhs: TokenRecord) -> Bool {
        (lhs.expiresAt ?? .distantFuture, lhs.id) < (rhs.expiresAt ?? .distantFuture, rhs.id)
    }

    // MARK: Helpers

    /// Seconds from 1970 to `Date`'s reference date (2001), in microseconds.
    private static let referenceOffset: Int64 = 978_307_200_000_000

    /// Whether `date` is finite and inside ``dateRange``. (`ClosedRange.contains` alone is not
    /// enough: `Date` derives `<=` from `<`, so NaN would pass.)
    private static func isInRange(_ date: Date) -> Bool {
        date.timeIntervalSinceReferenceDate.isFinite && dateRange.contains(date)
    }

    /// Microseconds since 1970 of a date inside ``dateRange``, rounded to the nearest.
    private static func microseconds(_ date: Date) -> Int64 {
        let interval = date.timeIntervalSinceReferenceDate
        let seconds = interval.rounded(.down)
        return Int64(seconds) * 1_000_000 + Int64(((interval - seconds) * 1e6).rounded()) + referenceOffset
    }

    /// The date of a count of microseconds since 1970 inside ``dateRange``.
    private static func date(_ microseconds: Int64) -> Date {
        let (seconds, fraction) = (microseconds - referenceOffset).quotientAndRemainder(dividingBy: 1_000_000)
        // Whole seconds and a non-negative fraction, so that the sum rounds once.
        let (whole, part) = fraction < 0 ? (seconds - 1, fraction + 1_000_000) : (seconds, fraction)
        return Date(timeIntervalSinceReferenceDate: Double(whole) + Double(part) / 1e6)
    }

    private static func describe(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        return interval.isFinite ? "The date \(interval) seconds after 1970" : "A date that is not finite"
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control
    }

    private static func isScopeCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"),
            UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
