import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TokenKit
import TokenKitServerSupport
import TokenKitServerSupportTesting
import TokenKitVapor
import Vapor
import VaporTesting

/// GitHub's secret-scanning route: signed reports revoke leaked tokens at once; everything else is
/// refused with nothing revoked.
struct SecretScanningTests {

    static let path = "/secret-scanning/github"

    /// The key this test signs with, published as `ours` beside GitHub's sample key.
    let signer = SecretScanningTestKeys()

    /// GitHub's sample key (no longer current) and ours, as GitHub's public-keys document.
    func keys() throws -> SecretScanningKeys {
        try signer.keys()
    }

    /// Runs `body` with an application whose secret-scanning route is `app.tokens`' own, or, with a
    /// body limit, a ``SecretScanningController`` for it.
    func run(
        provider: Application.Tokens.Provider = .memory,
        maximumBodySize: Int? = nil,
        _ body: (TestApplication) async throws -> Void
    ) async throws {
        let keys = try self.keys()
        try await TestApplication.run(
            provider: provider,
            routes: { app in
                if let maximumBodySize {
                    let endpoint = SecretScanningEndpoint(
                        manager: app.tokens.manager,
                        keys: keys,
                        maximumBodySize: maximumBodySize,
                        logger: app.logger
                    )
                    try app.register(collection: SecretScanningController(endpoint: endpoint))
                } else {
                    app.tokens.registerSecretScanning(keys: keys)
                }
            },
            body
        )
    }

    /// A report of `secret` as GitHub sends it.
    static func report(_ secret: String) -> String {
        #"[{"token":"\#(secret)","type":"tokenkit_api_token","url":"https://github.com/o/r/blob/main/.env","source":"content"}]"#
    }

    /// Base64 DER of `body`'s signature with `key`.
    static func sign(_ body: String, with keys: SecretScanningTestKeys) throws -> String {
        try keys.sign(Data(body.utf8))
    }

    /// GitHub's headers, without `Authorization`: GitHub authenticates by signature.
    static func headers(keyIdentifier: String?, signature: String?) -> HTTPHeaders {
        var headers: HTTPHeaders = ["Content-Type": "application/json"]
        if let keyIdentifier { headers.add(name: "Github-Public-Key-Identifier", value: keyIdentifier) }
        if let signature { headers.add(name: "Github-Public-Key-Signature", value: signature) }
        return headers
    }

    /// Posts `body` in memory, as VaporTesting does.
    static func post(
        _ test: TestApplication,
        _ body: String,
        keyIdentifier: String?,
        signature: String?,
        path: String = Self.path
    ) async throws -> TestResponse {
        let response = try await test.app.testing().sendRequest(
            .POST,
            path,
            headers: headers(keyIdentifier: keyIdentifier, signature: signature),
            body: ByteBuffer(string: body)
        )
        return TestResponse(status: response.status, headers: response.headers, body: String(buffer: response.body))
    }

    static func verdicts(_ body: String) throws -> [[String: String]] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: String]])
    }

    static func sha256(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    @Test func githubsPublishedSampleIsAnsweredWithAFalsePositive() async throws {
        try await run { test in
            let response = try await Self.post(
                test,
                GitHubSecretScanningSample.payload,
                keyIdentifier: GitHubSecretScanningSample.keyIdentifier,
                signature: GitHubSecretScanningSample.signature
            )
            #expect(response.status == .ok)
            #expect(response.headers.first(name: .contentType) == "application/json")
            #expect(response.headers.first(name: .wwwAuthenticate) == nil)
            let verdicts = try Self.verdicts(response.body)
            #expect(
                verdicts == [
                    [
                        "token_hash": GitHubSecretScanningSample.tokenHash,
                        "token_type": "some_type",
                        "label": "false_positive",
                    ]
                ]
            )
        }
    }

    @Test func aSignedReportRevokesTheTokenBeforeItsNextRequest() async throws {
        try await run { test in
            let secret = try await test.manager.create(owner: "alice", name: "ci").secret
            let report = Self.report(secret)
            #expect(try await test.send("/bearer", authorization: "Bearer \(secret)").status == .ok)

            let response = try await Self.post(
                test,
                report,
                keyIdentifier: "ours",
                signature: try Self.sign(report, with: signer)
            )
            #expect(response.status == .ok)
            #expect(response.headers.first(name: .contentType) == "application/json")
            #expect(
                try Self.verdicts(response.body) == [
                    ["token_hash": Self.sha256(secret), "token_type": "tokenkit_api_token", "label": "true_positive"]
                ]
            )

            let after = try await test.send("/bearer", authorization: "Bearer \(secret)")
            #expect(after.status == .unauthorized)
            #expect(after.headers.first(name: .wwwAuthenticate) == "Bearer")
            #expect(test.logText.contains { $0.contains("token.leaked") })
            #expect(test.failureLog("token.reason").last == "revoked")
        }
    }

    @Test(arguments: SecretScanningForgery.allCases)
    func aForgedReportIsRefusedAndRevokesNothing(forgery: SecretScanningForgery) async throws {
        try await run { test in
            let secret = try await test.manager.create(owner: "alice", name: "ci").secret
            let forged = try forgery.request(body: Self.report(secret), signedBy: signer)
            let (body, keyIdentifier, signature) = (forged.body, forged.keyIdentifier, forged.signature)
            let response = try await Self.post(test, body, keyIdentifier: keyIdentifier, signature: signature)
            #expect(response.status == .unauthorized)
            #expect(response.headers.first(name: .contentType) == "application/json")
            #expect(response.headers.first(name: .wwwAuthenticate) == nil, "GitHub is not asked for a token")
            #expect(try await test.send("/bearer", authorization: "Bearer \(secret)").status == .ok)
            #expect(!test.logText.contains { $0.contains("token.leaked") })
        }
    }

    @Test func malformedJSONWithAValidSignatureIs400() async throws {
        try await run { test in
            for body in [#"[{"token": "#, #"{"token":"x"}"#, "", "[1, 2]"] {
                let response = try await Self.post(
                    test,
                    body,
                    keyIdentifier: "ours",
                    signature: try Self.sign(body, with: signer)
                )
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.headers.first(name: .contentType) == "application/json")
            }
        }
    }

    @Test func aBodyOverTheLimitIs413AndRevokesNothing() async throws {
        try await run { test in
            let secret = try await test.manager.create(owner: "alice", name: "ci").secret
            let report = Self.report(secret) + String(repeating: " ", count: 1 << 20)
            let response = try await Self.post(
                test,
                report,
                keyIdentifier: "ours",
                signature: try Self.sign(report, with: signer)
            )
            #expect(response.status == .payloadTooLarge)
            #expect(response.headers.first(name: .contentType) == "application/json")
            #expect(response.body == #"{"error":"The report is larger than 1048576 bytes."}"#)
            #expect(try await test.send("/bearer", authorization: "Bearer \(secret)").status == .ok)
        }
    }

    @Test func aCollectedBodyWithoutContentLengthIsStillHeldToTheLimit() async throws {
        // Vapor skips its own limit for a body it already holds; the endpoint checks it itself.
        try await run(maximumBodySize: 100) { test in
            try await test.app.asyncBoot()
            let body = String(repeating: " ", count: 101)
            let request = Request(
                application: test.app,
                method: .POST,
                url: URI(path: Self.path),
                headers: Self.headers(keyIdentifier: "ours", signature: try Self.sign(body, with: signer)),
                collectedBody: ByteBuffer(string: body),
                logger: test.app.logger,
                on: test.app.eventLoopGroup.next()
            )
            let response = try await test.app.responder.respond(to: request).get()
            #expect(response.status == .payloadTooLarge)
            #expect(response.headers.first(name: .contentType) == "application/json")
        }
    }

    @Test func overARealConnectionTheLimitHoldsWithAndWithoutContentLength() async throws {
        try await run(maximumBodySize: 10_000) { test in
            let secret = try await test.manager.create(owner: "alice", name: "ci").secret
            let padded = Self.report(secret) + String(repeating: " ", count: 10_000 - Self.report(secret).utf8.count)
            let signature = try Self.sign(padded, with: signer)
            let over = padded + " "
            let overSignature = try Self.sign(over, with: signer)
            try await Self.withServer(test.app) { client, url in
                // Over the limit: 413 from Content-Length before a byte is read, and from the
                // bytes read for a chunked body, which has no length.
                let declared = try await Self.send(client, url, over, keyIdentifier: "ours", signature: overSignature)
                #expect(declared.status == .payloadTooLarge)
                #expect(declared.contentType == "application/json")
                #expect(declared.body == #"{"error":"The report is larger than 10000 bytes."}"#)
                let chunked = try await Self.send(
                    client,
                    url,
                    over,
                    keyIdentifier: "ours",
                    signature: overSignature,
                    chunked: true
                )
                #expect(chunked.status == .payloadTooLarge)
                #expect(chunked.contentType == "application/json")
                #expect(chunked.body == #"{"error":"The report is larger than 10000 bytes."}"#)
                #expect(try await test.send("/bearer", authorization: "Bearer \(secret)").status == .ok)

                // Exactly the limit is accepted, streamed in pieces as well.
                let exact = try await Self.send(
                    client,
                    url,
                    padded,
                    keyIdentifier: "ours",
                    signature: signature,
                    chunked: true
                )
                #expect(exact.status == .ok)
                #expect(try Self.verdicts(exact.body).first?["label"] == "true_positive")
            }
            #expect(try await test.send("/bearer", authorization: "Bearer \(secret)").status == .unauthorized)
        }
    }

    @Test func aReportOfExactly1MiBIsAcceptedOverARealConnection() async throws {
        try await run { test in
            let padded =
                GitHubSecretScanningSample.payload
                + String(repeating: " ", count: (1 << 20) - GitHubSecretScanningSample.payload.utf8.count)
            let ours = try Self.sign(padded, with: signer)
            try await Self.withServer(test.app) { client, url in
                let declared = try await Self.send(client, url, padded, keyIdentifier: "ours", signature: ours)
                #expect(declared.status == .ok)
                let chunked = try await Self.send(
                    client,
                    url,
                    padded,
                    keyIdentifier: "ours",
                    signature: ours,
                    chunked: true
                )
                #expect(chunked.status == .ok)
            }
        }
    }

    @Test func theRouteFollowsItsConfiguredPath() async throws {
        let keys = try self.keys()
        let routes: (Application) throws -> Void = { app in
            // A path written with a slash, and the controller on a group.
            app.tokens.registerSecretScanning(keys: keys, path: ["hooks/github"])
            let endpoint = SecretScanningEndpoint(manager: app.tokens.manager, keys: keys)
            try app.grouped("v1").register(collection: SecretScanningController(endpoint: endpoint))
        }
        try await TestApplication.run(routes: routes) { test in
            for (path, status) in [
                ("/hooks/github", HTTPStatus.ok), ("/v1/secret-scanning/github", .ok), (Self.path, .notFound),
            ] {
                let response = try await Self.post(
                    test,
                    GitHubSecretScanningSample.payload,
                    keyIdentifier: GitHubSecretScanningSample.keyIdentifier,
                    signature: GitHubSecretScanningSample.signature,
                    path: path
                )
                #expect(response.status == status, "\(path)")
            }
            let get = try await test.send("/hooks/github")
            #expect(get.status == .notFound, "only POST is routed")
        }
    }

    @Test func theStoreFailingIs503WithoutItsDetails() async throws {
        try await run(provider: .store(FailingTokenStore())) { test in
            // A token of the format, so that the store is asked.
            let secret = try await TokenManager(store: InMemoryTokenStore()).create(owner: "bob", name: "x").secret
            let report = Self.report(secret)
            let response = try await Self.post(
                test,
                report,
                keyIdentifier: "ours",
                signature: try Self.sign(report, with: signer)
            )
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers.first(name: .contentType) == "application/json")
            #expect(!response.body.contains(FailingTokenStore.path))
        }
    }

    @Test func noSecretReachesTheLog() async throws {
        try await run { test in
            let secret = try await test.manager.create(owner: "alice", name: "ci").secret
            let report = Self.report(secret)
            // Refused (the secret in a forged report), then accepted, then the revoked token used.
            _ = try await Self.post(
                test,
                report,
                keyIdentifier: "ours",
                signature: try Self.sign(report + " ", with: signer)
            )
            _ = try await Self.post(test, report, keyIdentifier: "ours", signature: try Self.sign(report, with: signer))
            _ = try await test.send("/bearer", authorization: "Bearer \(secret)")

            let lines = test.logText
            #expect(lines.contains { $0.contains("secret_scanning.signature_refused") })
            #expect(lines.contains { $0.contains("token.leaked") })
            #expect(!lines.contains { $0.contains(secret) })
            #expect(!lines.contains { $0.contains(secret.dropFirst("tk_".count).prefix(20)) }, "not even part of one")
        }
    }

    // MARK: - Over a real connection

    /// What a real client received.
    struct Received {
        let status: HTTPResponseStatus
        let contentType: String?
        let body: String
    }

    /// Runs `body` with the application serving on a free loopback port, and an HTTP client.
    static func withServer(
        _ app: Application,
        _ body: (HTTPClient, String) async throws -> Void
    ) async throws {
        try await app.asyncBoot()
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        do {
            let port = try #require(app.http.server.shared.localAddress?.port)
            try await body(client, "http://127.0.0.1:\(port)\(Self.path)")
        } catch {
            try? await client.shutdown()
            await app.server.shutdown()
            throw error
        }
        try await client.shutdown()
        await app.server.shutdown()
    }

    /// Posts `body` to `url`: with `Content-Length`, or chunked in 1,000-byte pieces.
    static func send(
        _ client: HTTPClient,
        _ url: String,
        _ body: String,
        keyIdentifier: String,
        signature: String,
        chunked: Bool = false
    ) async throws -> Received {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = headers(keyIdentifier: keyIdentifier, signature: signature)
        if chunked {
            let bytes = Array(body.utf8)
            let pieces = stride(from: 0, to: bytes.count, by: 1_000).map {
                ByteBuffer(bytes: bytes[$0..<min($0 + 1_000, bytes.count)])
            }
            request.body = .stream(pieces.async, length: .unknown)
        } else {
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let received = try await response.body.collect(upTo: 1 << 20)
        return Received(
            status: response.status,
            contentType: response.headers.first(name: "Content-Type"),
            body: String(buffer: received)
        )
    }
}

extension Sequence where Element: Sendable {
    /// The elements as an `AsyncSequence`, for a streamed request body.
    fileprivate var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}
