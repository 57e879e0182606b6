/// The credentials in an HTTP `Authorization` header: `Bearer TOKEN`, `cpanel USER:TOKEN` or
/// `whm USER:TOKEN`.
///
/// The scheme is matched without regard to case and white space around the value is ignored. When
/// the header names a user, ``TokenManager/validate(authorization:requiring:from:)`` also checks
/// that the token belongs to that user. The token is redacted from ``description``.
public struct AuthorizationCredentials: Hashable, Sendable, CustomStringConvertible {
    /// How the credentials were presented.
    public enum Scheme: String, Hashable, Sendable, CaseIterable {
        /// `Authorization: Bearer TOKEN` (RFC 6750).
        case bearer
        /// `Authorization: cpanel USER:TOKEN`, cPanel's scheme (port 2083).
        case cpanel
        /// `Authorization: whm USER:TOKEN`, WHM's scheme (port 2087).
        case whm
    }

    /// The longest header value accepted, in bytes.
    public static let maximumLength = 8192

    /// The scheme.
    public let scheme: Scheme
    /// The user named by a `cpanel` or `whm` header; `nil` for `Bearer`.
    public let user: String?
    /// The token text, exactly as presented.
    public let token: String

    /// Parses the value of an `Authorization` header.
    ///
    /// - Throws: ``AuthorizationHeaderError`` with the reason the value is not accepted.
    public init(parsing header: String) throws(AuthorizationHeaderError) {
        guard header.utf8.count <= Self.maximumLength else { throw .init(.malformedCredentials) }
        let value = header.utf8.trimmed
        guard !value.isEmpty else { throw .init(.empty) }
        let schemeEnd = value.firstIndex(where: isSpaceOrTab) ?? value.endIndex
        let schemeText = String(decoding: value[..<schemeEnd], as: UTF8.self).lowercased()
        guard let scheme = Scheme(rawValue: schemeText) else { throw .init(.unsupportedScheme) }
        let credentials = value[schemeEnd...].trimmed
        guard !credentials.isEmpty else { throw .init(.missingCredentials) }
        guard !credentials.contains(where: isSpaceOrTab) else { throw .init(.malformedCredentials) }

        switch scheme {
        case .bearer:
            self.user = nil
            self.token = String(decoding: credentials, as: UTF8.self)
        case .cpanel, .whm:
            guard let colon = credentials.firstIndex(of: UInt8(ascii: ":")), colon != credentials.startIndex else {
                throw .init(.missingUser)
            }
            let token = credentials[credentials.index(after: colon)...]
            guard !token.isEmpty else { throw .init(.malformedCredentials) }
            self.user = String(decoding: credentials[..<colon], as: UTF8.self)
            self.token = String(decoding: token, as: UTF8.self)
        }
        self.scheme = scheme
    }

    /// The scheme and user, with the token redacted.
    public var description: String {
        "AuthorizationCredentials(scheme: \(scheme.rawValue), user: \(user ?? "nil"), token: <redacted>)"
    }
}

private func isSpaceOrTab(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
}

extension Collection where Element == UInt8 {
    /// The bytes without leading and trailing spaces and tabs.
    fileprivate var trimmed: SubSequence {
        let start = firstIndex { !isSpaceOrTab($0) } ?? endIndex
        var end = start
        var index = start
        while index != endIndex {
            if !isSpaceOrTab(self[index]) { end = self.index(after: index) }
            index = self.index(after: index)
        }
        return self[start..<end]
    }
}
