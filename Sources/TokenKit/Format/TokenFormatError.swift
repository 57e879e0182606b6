/// Why a piece of text is not a well-formed token of a ``TokenFormat``.
///
/// Thrown by ``TokenFormat/validate(_:)`` before any store look-up, so a typo, a truncated paste or a
/// token of another service is rejected cheaply.
public struct TokenFormatError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of malformation.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case wrongPrefix = "wrong_prefix"
            case wrongLength = "wrong_length"
            case badCharacter = "bad_character"
            case checksumMismatch = "checksum_mismatch"
        }

        private let base: Base

        /// The text does not start with the format's prefix and `_`.
        public static let wrongPrefix = Reason(base: .wrongPrefix)
        /// The text is longer or shorter than a token of this format.
        public static let wrongLength = Reason(base: .wrongLength)
        /// The text holds a character outside the base62 alphabet.
        public static let badCharacter = Reason(base: .badCharacter)
        /// The last six characters are not the checksum of the rest: a typo or a made-up token.
        public static let checksumMismatch = Reason(base: .checksumMismatch)

        /// A stable, machine-readable name for the reason, such as `"checksum_mismatch"`.
        public var code: String { base.rawValue }

        /// The reason's stable code.
        public var description: String { code }
    }

    /// Why the text was rejected.
    public let reason: Reason

    /// Creates an error with `reason`, for tests and for parsers built on TokenKit's.
    public init(_ reason: Reason) {
        self.reason = reason
    }

    /// What is wrong and what to do, for people.
    public var description: String {
        switch reason {
        case .wrongPrefix: "The token does not start with this service's prefix; check that you copied the right token."
        case .wrongLength: "The token is too short or too long; check that it was copied in full."
        case .badCharacter: "The token contains a character that no token has; check that it was copied exactly."
        default: "The token's checksum does not match; it was mistyped or is not a real token."
        }
    }
}
