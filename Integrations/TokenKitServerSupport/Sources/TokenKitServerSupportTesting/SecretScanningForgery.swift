import Crypto
import Foundation

/// Every way a secret-scanning report's signature can fail, for adapters' tests: each turns a
/// correctly signed report into one the endpoint must refuse with 401, revoking nothing.
public enum SecretScanningForgery: String, CaseIterable, Sendable {
    /// The body changed after it was signed.
    case tamperedBody
    /// Signed with a key that is not published.
    case wrongKey
    /// A key identifier that is not published.
    case unknownIdentifier
    /// Another published key's identifier (GitHub's sample key).
    case anotherPublishedKey
    /// Neither header.
    case missingHeaders
    /// No signature header.
    case missingSignature
    /// No key identifier header.
    case missingIdentifier
    /// A signature that is not base64.
    case signatureNotBase64
    /// A signature that is base64 but not DER.
    case signatureNotDER
    /// An empty signature.
    case emptySignature

    /// A forged request: the body and the two headers to send.
    public struct Request: Sendable {
        /// The body.
        public var body: String
        /// The `Github-Public-Key-Identifier` header, if sent.
        public var keyIdentifier: String?
        /// The `Github-Public-Key-Signature` header, if sent.
        public var signature: String?
    }

    /// `body`, signed by `keys` as GitHub would sign it, then forged this way.
    ///
    /// - Parameter body: A report that mentions `content` (its `source`), which ``tamperedBody``
    ///   changes after signing.
    public func request(body: String, signedBy keys: SecretScanningTestKeys) throws -> Request {
        var request = Request(
            body: body,
            keyIdentifier: SecretScanningTestKeys.identifier,
            signature: try keys.sign(Data(body.utf8))
        )
        switch self {
        case .tamperedBody: request.body = body.replacingOccurrences(of: "content", with: "commit")
        case .wrongKey: request.signature = try SecretScanningTestKeys().sign(Data(body.utf8))
        case .unknownIdentifier: request.keyIdentifier = "unknown"
        case .anotherPublishedKey: request.keyIdentifier = GitHubSecretScanningSample.keyIdentifier
        case .missingHeaders: (request.keyIdentifier, request.signature) = (nil, nil)
        case .missingSignature: request.signature = nil
        case .missingIdentifier: request.keyIdentifier = nil
        case .signatureNotBase64: request.signature = "not base64!"
        case .signatureNotDER: request.signature = Data([1, 2, 3]).base64EncodedString()
        case .emptySignature: request.signature = ""
        }
        return request
    }
}
