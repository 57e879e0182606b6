/// Where the scheme, user and token of an `Authorization` header value lie in its UTF-8 bytes.
///
/// Found in one pass over the bytes, without copies: the scheme is compared without regard to
/// ASCII case, and spaces and tabs around the value and between scheme and credentials are
/// skipped. ``AuthorizationCredentials/init(parsing:)`` builds strings from the parts; the
/// manager's header validation hashes the token's bytes in place.
struct AuthorizationHeaderParts {
    /// The scheme.
    let scheme: AuthorizationCredentials.Scheme
    /// The bytes of the user a `cpanel` or `whm` header names; `nil` for `Bearer`.
    let user: Range<Int>?
    /// The bytes of the token.
    let token: Range<Int>

    /// Finds the parts of `bytes`, a header value.
    ///
    /// - Throws: ``AuthorizationHeaderError`` with the first reason that applies, in this order:
    ///   empty (nothing but spaces and tabs, however many), over
    ///   ``AuthorizationCredentials/maximumLength`` bytes, unsupported scheme, missing credentials,
    ///   white space inside the credentials, missing user, empty token.
    init(parsing bytes: UnsafeBufferPointer<UInt8>) throws(AuthorizationHeaderError) {
        let end = bytes.count
        var index = bytes.skippingBlanks(from: 0)
        guard index < end else { throw .init(.empty) }
        guard end <= AuthorizationCredentials.maximumLength else { throw .init(.malformedCredentials) }

        let schemeStart = index
        index = bytes.skippingNonBlanks(from: index)
        guard let scheme = AuthorizationCredentials.Scheme(matching: bytes, schemeStart..<index) else {
            throw .init(.unsupportedScheme)
        }

        let credentialsStart = bytes.skippingBlanks(from: index)
        let credentialsEnd = bytes.skippingNonBlanks(from: credentialsStart)
        guard credentialsStart < credentialsEnd else { throw .init(.missingCredentials) }
        // Anything but trailing blanks after the credentials means white space inside them.
        guard bytes.skippingBlanks(from: credentialsEnd) == end else { throw .init(.malformedCredentials) }

        switch scheme {
        case .bearer:
            user = nil
            token = credentialsStart..<credentialsEnd
        case .cpanel, .whm:
            var colon = credentialsStart
            while colon < credentialsEnd && bytes[colon] != UInt8(ascii: ":") { colon += 1 }
            guard colon < credentialsEnd, colon != credentialsStart else { throw .init(.missingUser) }
            guard colon + 1 < credentialsEnd else { throw .init(.malformedCredentials) }
            user = credentialsStart..<colon
            token = colon + 1..<credentialsEnd
        }
        self.scheme = scheme
    }
}

extension AuthorizationCredentials.Scheme {
    /// The scheme whose name equals `bytes[range]` without regard to ASCII case, or `nil`.
    ///
    /// ASCII case folding is all that can match: the one non-ASCII character whose lowercase is an
    /// ASCII letter, the Kelvin sign (K), lowercases to `k`, which no scheme name holds.
    fileprivate init?(matching bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        for scheme in Self.allCases {
            let matches = scheme.lowercaseName.withUTF8Buffer { name in
                name.count == range.count && zip(name, bytes[range]).allSatisfy { $1 | 0x20 == $0 }
            }
            if matches {
                self = scheme
                return
            }
        }
        return nil
    }

    /// The scheme's name in lowercase ASCII. Every byte is a letter, so `byte | 0x20` (which
    /// lowercases an ASCII letter) equals it only for that letter in either case.
    private var lowercaseName: StaticString {
        switch self {
        case .bearer: "bearer"
        case .cpanel: "cpanel"
        case .whm: "whm"
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The index of the first byte at or after `index` that is not a space or tab, or `count`.
    fileprivate func skippingBlanks(from index: Int) -> Int {
        var index = index
        while index < count && (self[index] == UInt8(ascii: " ") || self[index] == UInt8(ascii: "\t")) { index += 1 }
        return index
    }

    /// The index of the first space or tab at or after `index`, or `count`.
    fileprivate func skippingNonBlanks(from index: Int) -> Int {
        var index = index
        while index < count && self[index] != UInt8(ascii: " ") && self[index] != UInt8(ascii: "\t") { index += 1 }
        return index
    }
}
