/// Which hasher, under which key, a store's digests were made with.
///
/// A store records the identity of the first hasher it is used with and refuses any other (see
/// ``TokenStore/bindHasher(_:)``): digests made by another algorithm or key would never match, and
/// every token would silently turn unknown. The identity holds a fingerprint of the key — the
/// hasher's digest of a fixed label — never the key.
public struct TokenHasherIdentity: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The hasher's ``TokenHasher/algorithm``, such as `"hmac-sha256"`.
    public let algorithm: String
    /// 16 hexadecimal digits: the start of the hasher's digest of ``fingerprintLabel``.
    public let keyFingerprint: String

    /// The text a hasher digests to fingerprint its key.
    public static let fingerprintLabel = "TokenKit hasher fingerprint v1"

    /// Creates an identity, such as one a store has read back.
    public init(algorithm: String, keyFingerprint: String) {
        self.algorithm = algorithm
        self.keyFingerprint = keyFingerprint
    }

    /// The identity of `hasher`.
    public init(of hasher: some TokenHasher) {
        self.init(
            algorithm: hasher.algorithm,
            keyFingerprint: String(hasher.digest(of: Self.fingerprintLabel).hex.prefix(16))
        )
    }

    /// Such as `hmac-sha256 (key fingerprint 0123456789abcdef)`.
    public var description: String { "\(algorithm) (key fingerprint \(keyFingerprint))" }

    /// Checks that a store can keep the identity: an algorithm name of 1 to 64 printable ASCII
    /// characters and a fingerprint of 16 lowercase hexadecimal digits.
    public func check() throws(TokenKitError) {
        let printable = algorithm.utf8.allSatisfy { (0x21...0x7e).contains($0) }
        let hex = keyFingerprint.utf8.allSatisfy {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
        }
        guard (1...64).contains(algorithm.utf8.count), printable, keyFingerprint.utf8.count == 16, hex else {
            throw TokenKitError(
                .invalidConfiguration,
                "The hasher identity \(quoted(description)) cannot be stored: the algorithm must be 1 to 64 printable ASCII characters and the fingerprint 16 hex digits."
            )
        }
    }
}
