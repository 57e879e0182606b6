import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TokenKit
import TokenKitHummingbird
import TokenKitServerSupport
import TokenKitTesting

struct LoggingTests {
    @Test func noSecretReachesAnyLogLine() async throws {
        let fixture = Fixture()
        let secret = try await fixture.token()
        let revoked = try await fixture.token(name: "old")
        try await fixture.manager.revoke(owner: "alice", name: "old")
        let local = try await fixture.token(name: "local", allowedNetworks: ["203.0.113.0/24"])
        let throttle = FailedAuthenticationThrottle(configuration: .init(maximumFailures: 5))
        // Every way a secret can travel: accepted, refused for each reason, mangled, throttled.
        let attempts: [(uri: String, authorization: String)] = [
            ("/api/whoami", "Bearer \(secret)"),
            ("/cpanel/whoami", "cpanel alice:\(secret)"),
            ("/cpanel/whoami", "cpanel bob:\(secret)"),
            ("/cpanel/whoami", "whm \(secret)"),
            ("/api/whoami", "cpanel alice:\(secret)"),
            ("/api/whoami", "Basic \(secret)"),
            ("/api/whoami", "Bearer \(secret)x"),
            ("/api/whoami", "Bearer \(secret) \(secret)"),
            ("/api/whoami", "Bearer \(revoked)"),
            ("/api/whoami", "Bearer \(local)"),
            ("/dns/records", "Bearer \(secret)"),
            ("/strict/records", "Bearer \(secret)"),
            ("/handler", "Bearer \(revoked)"),
            ("/api/whoami", "Bearer \(secret)"),
        ]
        try await makeApplication(fixture, throttle: throttle).test(.router) { client in
            for attempt in attempts {
                _ = try await client.execute(
                    uri: attempt.uri,
                    method: .get,
                    headers: .auth(attempt.authorization, peer: "198.51.100.9")
                )
            }
        }
        let lines = fixture.logText
        #expect(lines.contains { $0.contains("token.validation_failed") })
        #expect(lines.contains { $0.contains("token.created") })
        for token in [secret, revoked, local] {
            // The random part alone would be a leak too.
            let body = String(token.dropFirst("tk_".count).prefix(24))
            #expect(!lines.contains { $0.contains(body) }, "a secret reached the log")
        }
    }
}
