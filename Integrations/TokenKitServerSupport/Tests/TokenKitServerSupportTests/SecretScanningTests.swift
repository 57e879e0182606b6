import Crypto
import Foundation
import Testing
import TokenKit
import TokenKitServerSupport
import TokenKitServerSupportTesting
import TokenKitTesting

/// GitHub's secret-scanning endpoint: signatures checked over the raw body, leaked tokens revoked.
struct SecretScanningTests {

    static func document(_ keys: [(String, String, Bool)]) -> Data {
        let entries = keys.map { ["key_identifier": $0.0, "key": $0.1, "is_current": $0.2] as [String: Any] }
        return try! JSONSerialization.data(withJSONObject: ["public_keys": entries])
    }

    let manager = TokenManager(store: InMemoryTokenStore(), configuration: .init(clock: ManualClock()))
    let signer = P256.Signing.PrivateKey()

    func endpoint(extraKeys: [(String, String, Bool)] = []) throws -> SecretScanningEndpoint {
        let keys = try SecretScanningKeys(
            document: Self.document(
                [
                    (GitHubSecretScanningSample.keyIdentifier, GitHubSecretScanningSample.publicKey, false),
                    ("ours", signer.publicKey.pemRepresentation, true),
                ]
                    + extraKeys
            )
        )
        return SecretScanningEndpoint(manager: manager, keys: keys)
    }

    func sign(_ body: Data, with key: P256.Signing.PrivateKey) throws -> String {
        try key.signature(for: body).derRepresentation.base64EncodedString()
    }

    @Test func githubsPublishedSampleVerifies() async throws {
        let response = await try endpoint().respond(
            body: Data(GitHubSecretScanningSample.payload.utf8),
            keyIdentifier: GitHubSecretScanningSample.keyIdentifier,
            signature: GitHubSecretScanningSample.signature
        )
        #expect(response.status == 200)
        let verdicts = try #require(try JSONSerialization.jsonObject(with: response.body) as? [[String: String]])
        #expect(verdicts.count == 1)
        #expect(verdicts[0]["label"] == "false_positive")
        #expect(verdicts[0]["token_type"] == "some_type")
        #expect(verdicts[0]["token_hash"] == GitHubSecretScanningSample.tokenHash)
    }

    @Test func aSignedReportRevokesTheLeakedTokenAtOnce() async throws {
        let leaked = try await manager.create(owner: "alice", name: "ci")
        let body = Data(
            #"[{"token":"\#(leaked.secret)","type":"tokenkit","url":"https://example.com/x","source":"content"}]"#.utf8
        )
        let response = await try endpoint().respond(
            body: body,
            keyIdentifier: "ours",
            signature: try sign(body, with: signer)
        )
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self).contains("true_positive"))
        #expect(try await manager.validate(leaked.secret) == .rejected(.revoked))
    }

    @Test func badSignaturesAreRefusedAndRevokeNothing() async throws {
        let leaked = try await manager.create(owner: "alice", name: "ci")
        let body = Data(#"[{"token":"\#(leaked.secret)","type":"tokenkit"}]"#.utf8)
        let endpoint = try endpoint()
        var tampered = body
        tampered[tampered.count - 3] = UInt8(ascii: "X")
        let stranger = P256.Signing.PrivateKey()
        let cases: [(Data, String?, String?)] = [
            (body, nil, nil),
            (body, "ours", nil),
            (body, nil, try sign(body, with: signer)),
            (tampered, "ours", try sign(body, with: signer)),  // body changed after signing
            (body, "ours", try sign(body, with: stranger)),  // wrong key
            (body, "unknown-key", try sign(body, with: signer)),  // unknown identifier
            (body, GitHubSecretScanningSample.keyIdentifier, try sign(body, with: signer)),  // another published key
            (body, "ours", "not base64!"),
            (body, "ours", Data([1, 2, 3]).base64EncodedString()),
        ]
        for (body, identifier, signature) in cases {
            let response = await endpoint.respond(body: body, keyIdentifier: identifier, signature: signature)
            #expect(response.status == 401)
        }
        #expect(try await manager.validate(leaked.secret).record != nil)
    }

    @Test func malformedAndOversizedReportsAreRefused() async throws {
        let endpoint = try endpoint()
        let malformed = Data("{not json".utf8)
        #expect(
            await endpoint.respond(body: malformed, keyIdentifier: "ours", signature: try sign(malformed, with: signer))
                .status == 400
        )
        let huge = Data(repeating: UInt8(ascii: " "), count: (1 << 20) + 1)
        #expect(
            await endpoint.respond(body: huge, keyIdentifier: "ours", signature: try sign(huge, with: signer)).status
                == 413
        )
    }

    @Test func keysReloadWithoutARestart() async throws {
        let file = NSTemporaryDirectory() + "keys-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let first = P256.Signing.PrivateKey()
        let second = P256.Signing.PrivateKey()
        try Self.document([("one", first.publicKey.pemRepresentation, true)]).write(to: URL(fileURLWithPath: file))
        let keys = try SecretScanningKeys(path: file)
        let body = Data("[]".utf8)
        #expect(keys.verify(body: body, signature: try sign(body, with: first), keyIdentifier: "one"))
        try Self.document([
            ("one", first.publicKey.pemRepresentation, false), ("two", second.publicKey.pemRepresentation, true),
        ])
        .write(to: URL(fileURLWithPath: file))
        try keys.reload()
        #expect(keys.identifiers == ["one", "two"])
        #expect(keys.verify(body: body, signature: try sign(body, with: second), keyIdentifier: "two"))
        // Not current any more, still published: still valid.
        #expect(keys.verify(body: body, signature: try sign(body, with: first), keyIdentifier: "one"))
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: file))
        #expect(throws: TokenKitError.self) { try keys.reload() }
        #expect(keys.identifiers == ["one", "two"])  // a failed reload keeps the keys
    }
}
