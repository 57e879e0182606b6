/// Hashes tokens with plain SHA-256 — TokenKit's default ``TokenHasher``.
///
/// Tokens carry at least 160 random bits, so a fast unsalted hash is enough: unlike passwords, they
/// cannot be found by guessing. Use ``HMACSHA256Hasher`` to also require a server-side key.
public struct SHA256Hasher: TokenHasher {
    /// Creates the hasher.
    public init() {}

    /// `"sha256"`.
    public var algorithm: String { "sha256" }

    /// Returns SHA-256(bytes).
    public func digest(_ bytes: UnsafeRawBufferPointer) -> TokenDigest {
        SHA256.hash(bytes)
    }
}
