import Crypto
import Foundation
import Synchronization
import TokenKit

/// The public keys GitHub signs secret-scanning reports with, in the shape of GitHub's public-keys
/// document: `{"public_keys": [{"key_identifier": "…", "key": "<PEM>", "is_current": true}]}`.
///
/// Every published key verifies, current or not: GitHub may still sign with a key it is phasing
/// out. Load the document from a file, and ``reload()`` it when GitHub rotates keys — no restart.
public final class SecretScanningKeys: Sendable {
    /// The file the keys are read from, if any.
    public let path: String?
    private let keys: Mutex<[String: P256.Signing.PublicKey]>

    /// Reads the key set from `path`.
    ///
    /// - Throws: ``TokenKit/TokenKitError`` with code ``TokenKit/TokenKitError/Code/invalidConfiguration``
    ///   when the file cannot be read or is not such a document with at least one P-256 key.
    public init(path: String) throws(TokenKitError) {
        self.path = path
        self.keys = Mutex(try Self.read(path))
    }

    /// A key set from a document already in memory (tests, or keys fetched by other means).
    public init(document: Data) throws(TokenKitError) {
        self.path = nil
        self.keys = Mutex(try Self.parse(document, from: "the given document"))
    }

    /// Reads the file again, replacing the keys; on failure the keys in use stay.
    public func reload() throws(TokenKitError) {
        guard let path else { return }
        // Read under the lock: reloads are rare, and a failed read leaves the keys as they were.
        try keys.withLock { (keys) throws(TokenKitError) in keys = try Self.read(path) }
    }

    /// The identifiers of the keys in use.
    public var identifiers: Set<String> { keys.withLock { Set($0.keys) } }

    /// Whether `signature` (base64 of a DER ECDSA signature) over `body` verifies with the key named
    /// `identifier`. An unknown identifier, or a signature that does not decode, does not verify.
    public func verify(body: some DataProtocol, signature: String, keyIdentifier identifier: String) -> Bool {
        guard let key = keys.withLock({ $0[identifier] }),
            let der = Data(base64Encoded: signature.trimmingCharacters(in: .whitespaces)),
            let parsed = try? P256.Signing.ECDSASignature(derRepresentation: der)
        else { return false }
        // `try?` above is safe: a signature that does not parse is one that does not verify.
        return key.isValidSignature(parsed, for: body)
    }

    private struct Document: Decodable {
        struct Key: Decodable {
            let key_identifier: String
            let key: String
            let is_current: Bool?
        }
        let public_keys: [Key]
    }

    private static func read(_ path: String) throws(TokenKitError) -> [String: P256.Signing.PublicKey] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TokenKitError(
                .invalidConfiguration,
                "Could not read the secret-scanning keys \(path): \(error.localizedDescription)",
                underlyingError: error
            )
        }
        return try parse(data, from: path)
    }

    private static func parse(
        _ data: Data,
        from source: String
    ) throws(TokenKitError) -> [String: P256.Signing.PublicKey] {
        do {
            let document = try JSONDecoder().decode(Document.self, from: data)
            var keys: [String: P256.Signing.PublicKey] = [:]
            for entry in document.public_keys {
                keys[entry.key_identifier] = try P256.Signing.PublicKey(pemRepresentation: entry.key)
            }
            guard !keys.isEmpty else { throw CocoaError(.coderValueNotFound) }
            return keys
        } catch {
            throw TokenKitError(
                .invalidConfiguration,
                "The secret-scanning keys in \(source) are not GitHub's public-keys document with P-256 keys: {\"public_keys\":[{\"key_identifier\",\"key\",\"is_current\"}]}.",
                underlyingError: error
            )
        }
    }
}
