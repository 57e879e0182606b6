import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TokenKitServerSupport

extension RouterMethods {
    /// Mounts GitHub's secret-scanning partner endpoint: `POST path`, answered by `endpoint`, so that
    /// a token leaked into a public repository is revoked as soon as GitHub finds it.
    ///
    /// ```swift
    /// let keys = try SecretScanningKeys(path: "github-secret-scanning-keys.json")
    /// router.addSecretScanningRoute(endpoint: SecretScanningEndpoint(manager: manager, keys: keys))
    /// ```
    ///
    /// GitHub authenticates its reports by signature, not with a token: mount the route on the
    /// router, or on a group, without `IsAuthenticatedMiddleware` or a policy in front of it. Each
    /// request is answered by `SecretScanningEndpoint.respond(to:)`: 200 with the verdicts, 401
    /// for a bad signature, 400 for a malformed report, 413 for a body over the endpoint's
    /// `maximumBodySize`, always as `application/json`. The route never throws a refusal, so
    /// ``TokenErrorMiddleware`` leaves its answers as they are.
    ///
    /// - Parameters:
    ///   - endpoint: The endpoint: the manager whose tokens are revoked, and GitHub's keys.
    ///   - path: The path GitHub posts to. Default: `/secret-scanning/github`.
    /// - Returns: `self`, to chain further routes.
    @discardableResult
    public func addSecretScanningRoute(
        endpoint: SecretScanningEndpoint,
        path: String = SecretScanningEndpoint.defaultPath
    ) -> Self {
        post(RouterPath(path)) { request, _ in try await endpoint.respond(to: request) }
    }
}

extension SecretScanningEndpoint {
    /// Answers a Hummingbird request: collects its raw body, up to `maximumBodySize`, reads the
    /// `Github-Public-Key-Identifier` and `Github-Public-Key-Signature` headers, and turns
    /// `respond(body:keyIdentifier:signature:)`'s answer into a response with
    /// `Content-Type: application/json`.
    ///
    /// A body over the limit is answered 413 as soon as it is known: from its `Content-Length`
    /// before a byte is read, or, for a chunked body, once the bytes read pass the limit. Nothing
    /// beyond the limit is kept; Hummingbird discards the rest of the body to keep the connection.
    ///
    /// Use it to mount the endpoint your own way, such as in a HummingbirdRouter `RouterController`;
    /// `RouterMethods.addSecretScanningRoute(endpoint:path:)` does it for a `Router` or group.
    ///
    /// - Parameter request: The request GitHub sent.
    /// - Throws: Only the error of reading the body, when the connection fails in the middle of it.
    public func respond(to request: Request) async throws -> Hummingbird.Response {
        if isTooLarge(contentLength: request.headers[.contentLength]) {
            return tooLarge()
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumBodySize)
        } catch is NIOTooManyBytesError {
            return tooLarge()
        }
        let answer = await respond(
            body: Data(body.readableBytesView),
            keyIdentifier: request.headers[.githubPublicKeyIdentifier],
            signature: request.headers[.githubPublicKeySignature]
        )
        return Hummingbird.Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: [.contentType: answer.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body))
        )
    }

    /// The endpoint's 413 answer, as a Hummingbird response.
    private func tooLarge() -> Hummingbird.Response {
        let answer: SecretScanningEndpoint.Response = self.tooLarge
        return Hummingbird.Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: [.contentType: answer.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body))
        )
    }
}

extension HTTPField.Name {
    /// `Github-Public-Key-Identifier`: the key GitHub signed a report with.
    static let githubPublicKeyIdentifier = HTTPField.Name(SecretScanningEndpoint.keyIdentifierHeader)!
    /// `Github-Public-Key-Signature`: the report's signature, base64 DER.
    static let githubPublicKeySignature = HTTPField.Name(SecretScanningEndpoint.signatureHeader)!
}
