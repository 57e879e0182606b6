/// Turns a presented token into the ``TokenDigest`` under which it is stored.
///
/// A hasher runs on every validation, so implementations must be fast and should not allocate.
/// TokenKit ships ``SHA256Hasher`` (the default) and ``HMACSHA256Hasher``, which mixes in a
/// server-side key (a "pepper") so that a stolen store alone cannot be used to test guesses.
///
/// Every implementation must be deterministic: the same bytes always give the same digest, in every
/// process and across restarts, or stored tokens would stop validating.
public protocol TokenHasher: Sendable {
    /// A short, stable name for the algorithm, such as `"sha256"`: 1 to 64 printable ASCII
    /// characters, recorded by stores so that a store used with a different hasher is detected.
    var algorithm: String { get }

    /// The algorithm and a fingerprint of the key, which a store records and checks (see
    /// ``TokenStore/bindHasher(_:)``). The default, ``TokenHasherIdentity/init(of:)``, fingerprints
    /// the key with the hasher's own digest of a fixed label, which suits any keyed hasher.
    var identity: TokenHasherIdentity { get }

    /// Returns the digest of `bytes`.
    func digest(_ bytes: UnsafeRawBufferPointer) -> TokenDigest
}

extension TokenHasher {
    /// The algorithm, and the hasher's digest of ``TokenHasherIdentity/fingerprintLabel``.
    public var identity: TokenHasherIdentity { TokenHasherIdentity(of: self) }

    /// Returns the digest of a token's UTF-8 text.
    public func digest(of token: String) -> TokenDigest {
        var token = token
        return token.withUTF8 { digest(UnsafeRawBufferPointer($0)) }
    }
}
