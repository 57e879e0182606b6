import Foundation
import Logging
import TokenKit

/// GitHub's secret-scanning partner endpoint, free of any web framework: a server routes
/// `POST /secret-scanning/github` to ``respond(body:keyIdentifier:signature:)`` and sends back the
/// status and body it returns.
///
/// - A missing or invalid signature, or an unknown key identifier: **401**, nothing revoked.
/// - A body over ``maximumBodySize``: **413** (frameworks should also stop reading there).
/// - Malformed JSON with a valid signature, or too many matches: **400**.
/// - Otherwise the manager revokes this server's tokens among the matches
///   (``TokenKit/TokenManager/revokeLeakedTokens(_:)``) and the answer is **200** with one verdict per
///   match: `[{"token_hash": …, "token_type": …, "label": "true_positive" | "false_positive"}]`.
/// - The store failing: its error's status (503).
///
/// The signature is ECDSA P-256 with SHA-256 over the raw body, base64 DER in
/// `Github-Public-Key-Signature`, the key named by `Github-Public-Key-Identifier`. No secret reaches
/// a log: refusals are logged without the body.
public struct SecretScanningEndpoint: Sendable {
    /// A response to send.
    public struct Response: Sendable {
        /// The HTTP status.
        public let status: Int
        /// The body: the verdicts, or `{"error": …}`.
        public let body: Data
        /// The body's content type: `application/json`.
        public let contentType = "application/json"
    }

    /// The path GitHub is configured to post to, by default.
    public static let defaultPath = "/secret-scanning/github"
    /// The header that carries the signature.
    public static let signatureHeader = "Github-Public-Key-Signature"
    /// The header that names the key.
    public static let keyIdentifierHeader = "Github-Public-Key-Identifier"

    /// The manager whose tokens are revoked.
    public let manager: TokenManager
    /// The keys signatures are checked with.
    public let keys: SecretScanningKeys
    /// The largest body accepted, in bytes. Default: 1 MiB.
    public let maximumBodySize: Int
    /// The most matches one report may hold. Default: ``TokenKit/LeakReport/defaultMaximumMatches``.
    public let maximumMatches: Int
    private let logger: Logger?

    /// Creates the endpoint.
    public init(
        manager: TokenManager,
        keys: SecretScanningKeys,
        maximumBodySize: Int = 1 << 20,
        maximumMatches: Int = LeakReport.defaultMaximumMatches,
        logger: Logger? = nil
    ) {
        self.manager = manager
        self.keys = keys
        self.maximumBodySize = maximumBodySize
        self.maximumMatches = maximumMatches
        self.logger = logger
    }

    /// Answers one request.
    ///
    /// - Parameters:
    ///   - body: The raw request body, exactly as received (the signature covers these bytes).
    ///   - keyIdentifier: The `Github-Public-Key-Identifier` header, if present.
    ///   - signature: The `Github-Public-Key-Signature` header, if present.
    public func respond(body: Data, keyIdentifier: String?, signature: String?) async -> Response {
        guard body.count <= maximumBodySize else { return tooLarge }
        guard let keyIdentifier, let signature,
            keys.verify(body: body, signature: signature, keyIdentifier: keyIdentifier)
        else {
            logger?.warning(
                "secret_scanning.signature_refused",
                metadata: ["key_identifier": "\(LogText.escaped(String((keyIdentifier ?? "none").prefix(80))))"]
            )
            return Self.error(401, "The report's signature does not verify with a published key.")
        }
        do {
            let report = try LeakReport(json: body, maximumMatches: maximumMatches)
            let verdicts = try await manager.revokeLeakedTokens(report)
            return Response(status: 200, body: LeakVerdict.json(verdicts))
        } catch let error as TokenKitError {
            return Self.error(
                error.code.suggestedHTTPStatus,
                error.code.suggestedHTTPStatus >= 500 ? "The token store is unavailable." : error.message
            )
        } catch {
            return Self.error(500, "The report could not be processed.")
        }
    }

    /// The 413 answer, for adapters that stop reading a body past ``maximumBodySize`` (as they
    /// should): the same `{"error": …}` shape as every other refusal.
    public var tooLarge: Response {
        Self.error(413, "The report is larger than \(maximumBodySize) bytes.")
    }

    /// Whether a request declaring `contentLength` bytes is over the limit, before its body is read.
    public func isTooLarge(contentLength: String?) -> Bool {
        contentLength.flatMap { Int($0) }.map { $0 > maximumBodySize } ?? false
    }

    private static func error(_ status: Int, _ message: String) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: ["error": message], options: [.sortedKeys])) ?? Data()
        // `try?` is safe: a dictionary of one string always serialises; an empty body is the fallback.
        return Response(status: status, body: body)
    }
}
