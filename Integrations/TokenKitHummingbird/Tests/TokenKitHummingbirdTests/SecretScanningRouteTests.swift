import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing
import TokenKit
import TokenKitHummingbird
import TokenKitServerSupport
import TokenKitServerSupportTesting
import TokenKitTesting

/// GitHub's secret-scanning route: signed reports revoke leaked tokens at once; everything else is
/// refused with nothing revoked.
struct SecretScanningRouteTests {

    static let path = SecretScanningEndpoint.defaultPath

    let fixture = Fixture()
    /// The key this test signs with, published as `ours` beside GitHub's sample key.
    let signer = SecretScanningTestKeys()

    func endpoint(maximumBodySize: Int = 1 << 20) throws -> SecretScanningEndpoint {
        let keys = try signer.keys()
        return SecretScanningEndpoint(
            manager: fixture.manager,
            keys: keys,
            maximumBodySize: maximumBodySize,
            logger: fixture.logger
        )
    }

    func application(maximumBodySize: Int = 1 << 20) throws -> some ApplicationProtocol {
        try makeApplication(fixture, secretScanning: try endpoint(maximumBodySize: maximumBodySize))
    }

    /// A report of `secret` as GitHub sends it.
    static func report(_ secret: String) -> String {
        #"[{"token":"\#(secret)","type":"tokenkit_api_token","url":"https://github.com/o/r/blob/main/.env","source":"content"}]"#
    }

    /// Base64 DER of `body`'s signature with `keys`.
    static func sign(_ body: String, with keys: SecretScanningTestKeys) throws -> String {
        try keys.sign(Data(body.utf8))
    }

    /// GitHub's headers, without `Authorization`: GitHub authenticates by signature.
    static func headers(keyIdentifier: String?, signature: String?) -> HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json"]
        if let keyIdentifier { fields[.githubKeyIdentifier] = keyIdentifier }
        if let signature { fields[.githubSignature] = signature }
        return fields
    }

    static func verdicts(_ body: ByteBuffer) throws -> [[String: String]] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [[String: String]])
    }

    @Test func githubsPublishedSampleIsAnsweredWithAFalsePositive() async throws {
        try await application().test(.router) { client in
            let response = try await client.execute(
                uri: Self.path,
                method: .post,
                headers: Self.headers(
                    keyIdentifier: GitHubSecretScanningSample.keyIdentifier,
                    signature: GitHubSecretScanningSample.signature
                ),
                body: ByteBuffer(string: GitHubSecretScanningSample.payload)
            )
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[.wwwAuthenticate] == nil)
            let verdicts = try Self.verdicts(response.body)
            #expect(verdicts.count == 1)
            #expect(verdicts.first?["label"] == "false_positive")
            #expect(verdicts.first?["token_type"] == "some_type")
            #expect(
                verdicts.first?["token_hash"] == GitHubSecretScanningSample.tokenHash
            )
        }
    }

    @Test func aSignedReportRevokesTheTokenBeforeItsNextRequest() async throws {
        let secret = try await fixture.token()
        let report = Self.report(secret)
        let signature = try Self.sign(report, with: signer)
        try await application().test(.router) { client in
            let before = try await client.execute(uri: "/api/whoami", method: .get, headers: .auth("Bearer \(secret)"))
            #expect(before.status == .ok)

            let response = try await client.execute(
                uri: Self.path,
                method: .post,
                headers: Self.headers(keyIdentifier: "ours", signature: signature),
                body: ByteBuffer(string: report)
            )
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let verdicts = try Self.verdicts(response.body)
            let hash = SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(
                verdicts == [["token_hash": hash, "token_type": "tokenkit_api_token", "label": "true_positive"]]
            )

            let after = try await client.execute(uri: "/api/whoami", method: .get, headers: .auth("Bearer \(secret)"))
            #expect(after.status == .unauthorized)
        }
        #expect(fixture.audit.events.contains { $0.kind == .leaked })
        #expect(fixture.audit.events.last?.rejection == .revoked)
    }

    @Test(arguments: SecretScanningForgery.allCases)
    func aForgedReportIsRefusedAndRevokesNothing(forgery: SecretScanningForgery) async throws {
        let secret = try await fixture.token()
        let forged = try forgery.request(body: Self.report(secret), signedBy: signer)
        let (body, keyIdentifier, signature) = (forged.body, forged.keyIdentifier, forged.signature)
        try await application().test(.router) { [body, keyIdentifier, signature] client in
            let response = try await client.execute(
                uri: Self.path,
                method: .post,
                headers: Self.headers(keyIdentifier: keyIdentifier, signature: signature),
                body: ByteBuffer(string: body)
            )
            #expect(response.status == .unauthorized)
            #expect(response.headers[.contentType] == "application/json")
            let still = try await client.execute(uri: "/api/whoami", method: .get, headers: .auth("Bearer \(secret)"))
            #expect(still.status == .ok)
        }
        #expect(!fixture.audit.events.contains { $0.kind == .leaked })
    }

    @Test func malformedJSONWithAValidSignatureIs400() async throws {
        let body = #"[{"token": "#
        let signature = try Self.sign(body, with: signer)
        try await application().test(.router) { client in
            let response = try await client.execute(
                uri: Self.path,
                method: .post,
                headers: Self.headers(keyIdentifier: "ours", signature: signature),
                body: ByteBuffer(string: body)
            )
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType] == "application/json")
        }
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        let secret = try await fixture.token()
        let report = Self.report(secret) + String(repeating: " ", count: 1 << 20)
        let signature = try Self.sign(report, with: signer)
        try await application().test(.router) { client in
            let response = try await client.execute(
                uri: Self.path,
                method: .post,
                headers: Self.headers(keyIdentifier: "ours", signature: signature),
                body: ByteBuffer(string: report)
            )
            #expect(response.status == .contentTooLarge)
            #expect(response.headers[.contentType] == "application/json")
            #expect(String(buffer: response.body) == #"{"error":"The report is larger than 1048576 bytes."}"#)
            let still = try await client.execute(uri: "/api/whoami", method: .get, headers: .auth("Bearer \(secret)"))
            #expect(still.status == .ok)
        }
    }

    @Test func aChunkedBodyIsReadNoFurtherThanTheLimit() async throws {
        // No Content-Length, and a body that never ends: the endpoint must stop on its own.
        let chunks = ChunkCounter()
        let endless = AsyncStream<ByteBuffer>(unfolding: {
            chunks.count.withLock { $0 += 1 }
            return ByteBuffer(repeating: UInt8(ascii: " "), count: 1_000)
        })
        let request = Request(
            head: HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: Self.path),
            body: RequestBody(asyncSequence: endless)
        )
        let response = try await endpoint(maximumBodySize: 10_000).respond(to: request)
        #expect(response.status == .contentTooLarge)
        #expect(chunks.count.withLock { $0 } <= 11)
    }

    @Test func theRouteFollowsItsConfiguredPath() async throws {
        let app = try makeApplication(fixture, secretScanning: try endpoint(), secretScanningPath: "/hooks/github")
        try await app.test(.router) { client in
            let headers = Self.headers(
                keyIdentifier: GitHubSecretScanningSample.keyIdentifier,
                signature: GitHubSecretScanningSample.signature
            )
            let moved = try await client.execute(
                uri: "/hooks/github",
                method: .post,
                headers: headers,
                body: ByteBuffer(string: GitHubSecretScanningSample.payload)
            )
            #expect(moved.status == .ok)
            let old = try await client.execute(
                uri: Self.path,
                method: .post,
                headers: headers,
                body: ByteBuffer(string: GitHubSecretScanningSample.payload)
            )
            #expect(old.status == .notFound)
        }
    }

    @Test func noSecretReachesTheLogs() async throws {
        let secret = try await fixture.token()
        let report = Self.report(secret)
        let forged = try Self.sign(report + " ", with: signer)
        let signature = try Self.sign(report, with: signer)
        try await application().test(.router) { client in
            // Refused (the secret in a forged report), then accepted, then the revoked token used.
            _ = try await client.execute(
                uri: Self.path,
                method: .post,
                headers: Self.headers(keyIdentifier: "ours", signature: forged),
                body: ByteBuffer(string: report)
            )
            _ = try await client.execute(
                uri: Self.path,
                method: .post,
                headers: Self.headers(keyIdentifier: "ours", signature: signature),
                body: ByteBuffer(string: report)
            )
            _ = try await client.execute(uri: "/api/whoami", method: .get, headers: .auth("Bearer \(secret)"))
        }
        let lines = fixture.logText
        #expect(lines.contains { $0.contains("secret_scanning.signature_refused") })
        #expect(lines.contains { $0.contains("token.leaked") })
        // The random part alone would be a leak too.
        let body = String(secret.dropFirst("tk_".count).prefix(24))
        #expect(!lines.contains { $0.contains(body) }, "a secret reached the log")
    }
}

/// How many chunks a body has produced.
final class ChunkCounter: Sendable {
    let count = Mutex(0)
}

extension HTTPField.Name {
    static let githubKeyIdentifier = HTTPField.Name("Github-Public-Key-Identifier")!
    static let githubSignature = HTTPField.Name("Github-Public-Key-Signature")!
}
