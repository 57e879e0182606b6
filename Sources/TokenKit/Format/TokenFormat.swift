/// The text form of a token: `<prefix>_<random><checksum>`, after GitHub's token format.
///
/// - `prefix`: 1–16 characters of `[a-z0-9]` naming the issuer (default `tk`), so that secret
///   scanners can tell whose token leaked.
/// - `random`: base62 characters from the system's cryptographically secure generator, carrying at
///   least ``minimumRandomBits`` bits (default 256, which takes 43 characters).
/// - `checksum`: the CRC-32 of everything before it, as 6 base62 digits, so a typo or a truncated
///   paste is rejected without a store look-up.
///
/// A default token looks like `tk_` followed by 49 base62 characters, and a scanner finds it with
/// the regular expression in ``scannerPattern``.
///
/// ```swift
/// let format = try TokenFormat(prefix: "acme")
/// let token = format.generate()          // "acme_…"
/// try format.validate(token)             // passes
/// ```
public struct TokenFormat: Hashable, Sendable {
    /// The fewest random bits a format may carry.
    public static let minimumRandomBits = 160
    /// The most random bits a format may carry.
    public static let maximumRandomBits = 1024
    /// The number of base62 characters of the checksum.
    public static let checksumLength = 6

    /// The default format: prefix `tk`, 256 random bits.
    public static let `default` = TokenFormat(validPrefix: "tk", randomBits: 256)

    /// The issuer prefix, without the `_` that follows it.
    public let prefix: String
    /// The number of random base62 characters: enough to carry the requested bits.
    public let randomLength: Int
    /// The prefix and separator as UTF-8, compared byte by byte when parsing.
    private let head: [UInt8]

    /// Creates a format.
    ///
    /// - Parameters:
    ///   - prefix: 1–16 characters of `[a-z0-9]`.
    ///   - randomBits: The entropy of the random part, from ``minimumRandomBits`` to
    ///     ``maximumRandomBits``.
    /// - Throws: ``TokenKitError`` with code ``TokenKitError/Code/invalidConfiguration`` when either
    ///   argument is out of range.
    public init(prefix: String = "tk", randomBits: Int = 256) throws(TokenKitError) {
        let utf8 = Array(prefix.utf8)
        guard (1...16).contains(utf8.count),
            utf8.allSatisfy({
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            })
        else {
            throw TokenKitError(.invalidConfiguration, "A token prefix must be 1 to 16 characters of a-z and 0-9.")
        }
        guard (Self.minimumRandomBits...Self.maximumRandomBits).contains(randomBits) else {
            throw TokenKitError(
                .invalidConfiguration,
                "A token must carry \(Self.minimumRandomBits) to \(Self.maximumRandomBits) random bits."
            )
        }
        self.init(validPrefix: prefix, randomBits: randomBits)
    }

    private init(validPrefix prefix: String, randomBits: Int) {
        self.prefix = prefix
        self.randomLength = Int((Double(randomBits) / Base62.bitsPerCharacter).rounded(.up))
        self.head = Array(prefix.utf8) + [UInt8(ascii: "_")]
    }

    /// The length of every token of this format, in characters.
    public var length: Int { head.count + randomLength + Self.checksumLength }

    /// The bits of entropy a token of this format carries.
    public var randomBits: Double { Double(randomLength) * Base62.bitsPerCharacter }

    /// A regular expression that matches tokens of this format, for secret scanners.
    public var scannerPattern: String {
        "\\b\(prefix)_[0-9A-Za-z]{\(randomLength + Self.checksumLength)}\\b"
    }

    /// Generates a new token from the system's cryptographically secure random number generator.
    public func generate() -> String {
        // Enough words for the random characters in one draw, almost always: each byte is kept
        // with probability 248/256 (see `Base62.randomCharacters`), so one more word covers the
        // bytes turned down.
        var generator = SystemRandomWords(batch: (randomLength + 7) / 8 + 1)
        return generate(using: &generator)
    }

    /// Generates a token with `generator`. Only tests pass anything but the system generator.
    func generate(using generator: inout some RandomNumberGenerator) -> String {
        var text = head + Base62.randomCharacters(count: randomLength, using: &generator)
        text += Base62.encode(CRC32.checksum(text), width: Self.checksumLength)
        return String(decoding: text, as: UTF8.self)
    }

    /// Checks that `token` is a well-formed token of this format.
    ///
    /// Checks run in this order: prefix, length, characters, checksum. Any string is safe to pass,
    /// however long or strange; nothing is allocated.
    ///
    /// - Throws: ``TokenFormatError`` with the first reason that applies.
    public func validate(_ token: String) throws(TokenFormatError) {
        try validate(bytes: token.utf8)
    }

    /// Checks raw bytes that may not be UTF-8 at all, such as a header value straight off the wire.
    ///
    /// - Throws: ``TokenFormatError`` with the first reason that applies.
    public func validate(bytes: some Collection<UInt8>) throws(TokenFormatError) {
        let problem: TokenFormatError.Reason? =
            bytes.withContiguousStorageIfAvailable { firstProblem(in: $0) }
            ?? Array(bytes).withUnsafeBufferPointer { firstProblem(in: $0) }
        if let problem { throw TokenFormatError(problem) }
    }

    private func firstProblem(in bytes: UnsafeBufferPointer<UInt8>) -> TokenFormatError.Reason? {
        // Plain loops over the bytes: this runs on every validation. The digit table is read once:
        // on Linux every access to a global costs a call to `swift_once`.
        guard bytes.count >= head.count else { return .wrongPrefix }
        for index in head.indices where bytes[index] != head[index] { return .wrongPrefix }
        guard bytes.count == length else { return .wrongLength }
        let values = Base62.values
        var checksum: UInt32 = 0
        for index in head.count..<length {
            let value = values[Int(bytes[index])]
            guard value != Base62.notADigit else { return .badCharacter }
            if index >= length - Self.checksumLength {
                // Six base62 digits can exceed 32 bits: such a checksum matches no CRC-32.
                let (shifted, overflow) = checksum.multipliedReportingOverflow(by: 62)
                guard !overflow else { return .checksumMismatch }
                checksum = shifted &+ UInt32(value)
                if checksum < shifted { return .checksumMismatch }
            }
        }
        let body = UnsafeBufferPointer(rebasing: bytes.prefix(length - Self.checksumLength))
        return CRC32.checksum(body) == checksum ? nil : .checksumMismatch
    }
}
