import Crypto
import Foundation
import TokenKitServerSupport

/// GitHub's own published sample from its secret-scanning partner-program documentation: a public
/// key, a report, and GitHub's signature of it. Every adapter's tests check that it verifies.
public enum GitHubSecretScanningSample {
    /// The identifier GitHub names the key by.
    public static let keyIdentifier = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a"
    /// The public key, PEM.
    public static let publicKey = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9MJJHnMfn2+H4xL4YaPDA4RpJqUq
        kCmRCBnYERxZanmcpzQSXs1X/AljlKkbJ8qpVIW4clayyef9gWhFbNHWAA==
        -----END PUBLIC KEY-----
        """
    /// The report, byte for byte as signed.
    public static let payload = #"[{"token":"some_token","type":"some_type","url":"some_url"}]"#
    /// GitHub's signature of ``payload``: base64 of a DER ECDSA P-256 signature.
    public static let signature =
        "MEUCIQDKZokqnCjrRtw0tni+2Ltvl/uiMJ1EGumEsp1BsNr32AIgQY1YXD2nlj+XNfGK4rBfkMJ1JDOQcYXxa2sY8FNkrKc="
    /// SHA-256 of the reported `some_token`, as the verdict carries it.
    public static let tokenHash = "9a45520a1213f15016d2d768b5fb3d904492a44ee274b44d4de8803e00fb536a"
}

/// A signing key made for a test, published as `ours` beside GitHub's sample key: signs reports the
/// way GitHub does, and builds the key set to verify them.
public struct SecretScanningTestKeys {
    /// The identifier the test key is published under.
    public static let identifier = "ours"
    /// The private key the test signs with.
    public let signer: P256.Signing.PrivateKey

    /// Makes a fresh key.
    public init() {
        signer = P256.Signing.PrivateKey()
    }

    /// Signs `body` as GitHub does: base64 of the DER ECDSA signature over the raw bytes.
    public func sign(_ body: some DataProtocol) throws -> String {
        try signer.signature(for: body).derRepresentation.base64EncodedString()
    }

    /// A public-keys document with GitHub's sample key (not current) and this one (current), plus
    /// `extra` entries of (identifier, PEM, current).
    public func document(extra: [(String, String, Bool)] = []) -> Data {
        let entries =
            [
                (GitHubSecretScanningSample.keyIdentifier, GitHubSecretScanningSample.publicKey, false),
                (Self.identifier, signer.publicKey.pemRepresentation, true),
            ] + extra
        return Self.document(entries)
    }

    /// A public-keys document of (identifier, PEM, current) entries.
    public static func document(_ entries: [(String, String, Bool)]) -> Data {
        var json = #"{"public_keys":["#
        json += entries.map { identifier, key, current in
            let escapedKey = key.replacingOccurrences(of: "\n", with: "\\n")
            return #"{"key_identifier":"\#(identifier)","key":"\#(escapedKey)","is_current":\#(current)}"#
        }.joined(separator: ",")
        json += "]}"
        return Data(json.utf8)
    }

    /// The key set of ``document(extra:)``.
    public func keys() throws -> SecretScanningKeys {
        try SecretScanningKeys(document: document())
    }
}
