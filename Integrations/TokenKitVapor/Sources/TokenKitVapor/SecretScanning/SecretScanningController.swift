import Foundation
import NIOCore
import TokenKitServerSupport
import Vapor

/// GitHub's secret-scanning partner endpoint as a Vapor `RouteCollection`: `POST path`, answered by
/// a `SecretScanningEndpoint`, so that a token leaked into a public repository is revoked as soon
/// as GitHub finds it.
///
/// ```swift
/// let keys = try SecretScanningKeys(path: "github-keys.json")
/// let endpoint = SecretScanningEndpoint(manager: app.tokens.manager, keys: keys, logger: app.logger)
/// try app.register(collection: SecretScanningController(endpoint: endpoint))
/// ```
///
/// ``Vapor/Application/Tokens/registerSecretScanning(keys:path:)`` does this for `app.tokens`; use
/// the controller to mount the endpoint on a group of yours, or with an endpoint of your own making
/// (another body limit or maximum of matches).
///
/// GitHub authenticates its reports by signature, not with a token: register the controller on the
/// application, or on a group, without an authenticator or ``TokenGuardMiddleware`` in front of it.
/// Each request is answered by `SecretScanningEndpoint.respond(body:keyIdentifier:signature:)`:
///
/// - 200 with GitHub's verdicts, one per match, after revoking this server's tokens among them;
/// - 401 for a missing or invalid signature or an unknown key identifier, with nothing revoked;
/// - 400 for a malformed report with a valid signature;
/// - 413 for a body over the endpoint's `maximumBodySize` (1 MiB by default): from its
///   `Content-Length` before a byte is read, or, for a chunked body, once the bytes read pass the
///   limit (Vapor's `body: .collect(maxSize:)`, which keeps nothing past the limit);
/// - 503 when the store is unavailable, without its details.
///
/// Every answer is `application/json`, built here rather than thrown, so ``TokenErrorMiddleware``
/// and Vapor's `ErrorMiddleware` (or one of your own) leave it as it is.
public struct SecretScanningController: RouteCollection, Sendable {
    /// `/secret-scanning/github`, as path components: where GitHub is configured to post, by default.
    public static let defaultPath: [PathComponent] = SecretScanningEndpoint.defaultPath.pathComponents

    /// The endpoint: the manager whose tokens are revoked, GitHub's keys, and the limits.
    public let endpoint: SecretScanningEndpoint

    /// The path the route is registered at, relative to the routes builder it is registered on.
    public let path: [PathComponent]

    /// Creates the controller; register it with `app.register(collection:)`, or on a group.
    ///
    /// - Parameters:
    ///   - endpoint: The endpoint that checks, revokes and answers.
    ///   - path: Where GitHub posts. Default: ``defaultPath``, `/secret-scanning/github`. A component
    ///     written with slashes, such as `["hooks/github"]`, is split into its parts.
    public init(endpoint: SecretScanningEndpoint, path: [PathComponent] = Self.defaultPath) {
        self.endpoint = endpoint
        // Vapor matches one component per path segment: a constant holding a slash would never match.
        self.path = path.flatMap { component -> [PathComponent] in
            if case .constant(let text) = component, text.contains("/") { return text.pathComponents }
            return [component]
        }
    }

    /// Registers `POST` ``path`` on `routes`, its body collected up to the endpoint's
    /// `maximumBodySize`.
    ///
    /// - Parameter routes: The application, or a group without token authentication.
    public func boot(routes: any RoutesBuilder) {
        // Vapor refuses a streamed body once it reaches `maxSize`; one byte more lets a body of
        // exactly `maximumBodySize` through, as the endpoint allows.
        let collectionLimit = min(endpoint.maximumBodySize, Int.max - 1) + 1
        routes.grouped(SecretScanningBodyLimitMiddleware(endpoint: endpoint))
            .on(.POST, path, body: .collect(maxSize: ByteCount(value: collectionLimit)), use: respond(to:))
    }

    /// Answers one report, its body already collected by the route.
    private func respond(to request: Request) async -> Response {
        let body = request.body.data ?? ByteBuffer()
        let answer = await endpoint.respond(
            body: Data(body.readableBytesView),
            keyIdentifier: request.headers.first(name: SecretScanningEndpoint.keyIdentifierHeader),
            signature: request.headers.first(name: SecretScanningEndpoint.signatureHeader)
        )
        return Response.json(
            HTTPResponseStatus(statusCode: answer.status),
            answer.body,
            contentType: answer.contentType
        )
    }
}

/// Answers 413 for a report over the limit in the endpoint's own shape, `{"error": …}` as
/// `application/json`: at once when `Content-Length` says so, before the body is read; and when the
/// route's body collection stops a chunked body at the limit, in place of Vapor's `Abort`, which the
/// application's error middleware would answer in a shape of its own.
struct SecretScanningBodyLimitMiddleware: AsyncMiddleware {
    /// The endpoint whose limit and 413 answer apply.
    let endpoint: SecretScanningEndpoint

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if endpoint.isTooLarge(contentLength: request.headers.first(name: .contentLength)) {
            return tooLarge()
        }
        do {
            return try await next.respond(to: request)
        } catch let error as any AbortError where error.status == .payloadTooLarge {
            return tooLarge()
        }
    }

    private func tooLarge() -> Response {
        Response.json(.payloadTooLarge, endpoint.tooLarge.body)
    }
}

extension Response {
    /// A response with `body`, already JSON, as `contentType`.
    fileprivate static func json(
        _ status: HTTPResponseStatus,
        _ body: Data,
        contentType: String = "application/json"
    ) -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: contentType)
        return Response(status: status, headers: headers, body: Response.Body(data: body))
    }
}
