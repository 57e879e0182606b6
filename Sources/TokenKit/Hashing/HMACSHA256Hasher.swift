/// Hashes tokens with HMAC-SHA-256 (RFC 2104) under a server-side key, the "pepper".
///
/// The key lives in the server's configuration, never in the store, so a copy of the store alone
/// reveals nothing that can be checked offline. The padded inner and outer keys are hashed once, at
/// creation, so each digest costs about as much as two SHA-256 blocks and no allocation.
///
/// Keep the key secret and stable: changing it makes every stored token unknown.
public struct HMACSHA256Hasher: TokenHasher {
    private let inner: SHA256
    private let outer: SHA256

    /// Creates a hasher with `key`, which should be at least 32 random bytes.
    ///
    /// - Parameter key: The secret key. Keys longer than 64 bytes are first hashed, as RFC 2104 says.
    public init(key: some Collection<UInt8>) {
        self.init(key: key, implementation: .fastest)
    }

    /// Creates a hasher whose SHA-256 runs on `implementation`, so that tests compare each.
    init(key: some Collection<UInt8>, implementation: SHA256.Implementation) {
        var block = [UInt8](key)
        if block.count > SHA256.blockSize {
            block = block.withUnsafeBytes { SHA256.hash($0, implementation: implementation).bytes }
        }
        block += [UInt8](repeating: 0, count: SHA256.blockSize - block.count)
        var inner = SHA256(implementation: implementation)
        var outer = SHA256(implementation: implementation)
        block.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update($0) }
        block.map { $0 ^ 0x5c }.withUnsafeBytes { outer.update($0) }
        self.inner = inner
        self.outer = outer
    }

    /// `"hmac-sha256"`.
    public var algorithm: String { "hmac-sha256" }

    /// Returns HMAC-SHA-256(key, bytes).
    public func digest(_ bytes: UnsafeRawBufferPointer) -> TokenDigest {
        var innerHash = inner
        innerHash.update(bytes)
        let innerDigest = innerHash.finalize()
        // The inner digest's 32 bytes, most significant first, without an array.
        let innerBytes = (
            innerDigest.w0.bigEndian, innerDigest.w1.bigEndian, innerDigest.w2.bigEndian, innerDigest.w3.bigEndian
        )
        var outerHash = outer
        withUnsafeBytes(of: innerBytes) { outerHash.update($0) }
        return outerHash.finalize()
    }
}
