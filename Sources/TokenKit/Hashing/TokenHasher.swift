/// Turns a presented token into the ``TokenDigest`` under which it is stored.
///
/// A hasher runs on every validation, so implementations must be fast and should not allocate.
/// TokenKit ships ``SHA256Hasher`` (the default) and ``HMACSHA256Hasher``, which mixes in a
/// server-side key (a "pepper") so that a stolen store alone cannot be used to test guesses.
///
/// Every implementation must be deterministic: the same bytes always give the same digest, in every
/// process and across restarts, or stored tokens would stop validating.
public protocol TokenHasher: Sendable {
    /// A short, stable name for the algorithm, such as `"sha256"`, recorded by stores so that a store
    /// opened with a different hasher can be detected.
    var algorithm: String { get }

    /// Returns the digest of `bytes`.
    func digest(_ bytes: UnsafeRawBufferPointer) -> TokenDigest
}

extension TokenHasher {
    /// Returns the digest of a token's UTF-8 text.
    public func digest(of token: String) -> TokenDigest {
        var token = token
        return token.withUTF8 { digest(UnsafeRawBufferPointer($0)) }
    }
}
