import Testing
import TokenKit
import TokenKitServerSupport
import TokenKitVapor
import Vapor

struct LoggingTests {
    @Test func noSecretReachesTheLog() async throws {
        let options = Application.Tokens.Options(
            throttle: FailedAuthenticationThrottle.Configuration(maximumFailures: 3)
        )
        try await TestApplication.run(options: options) { test in
            let good = try await test.manager.create(owner: "alice", name: "good").secret
            let revoked = try await test.manager.create(owner: "alice", name: "old").secret
            try await test.manager.revoke(owner: "alice", name: "old")
            let stranger = try await TokenManager(store: InMemoryTokenStore()).create(owner: "bob", name: "x").secret
            let secrets = [good, revoked, stranger]

            for authorization in [
                "Bearer \(good)", "cpanel alice:\(good)", "cpanel bob:\(good)", "Bearer \(revoked)",
                "Bearer \(stranger)", "Basic \(good)", "\(good) Bearer", "alice:\(good) cpanel", "Bearer \(good)x",
            ] {
                _ = try await test.send("/bearer", authorization: authorization)
                _ = try await test.send("/cpanel", authorization: authorization)
                _ = try await test.send("/scoped", from: "198.51.100.9", authorization: authorization)
            }

            let lines = test.logText
            #expect(lines.contains { $0.contains("token.validation_failed") }, "failures are audited")
            #expect(lines.contains { $0.contains("token.created") }, "creations are audited")
            for secret in secrets {
                #expect(!lines.contains { $0.contains(secret) })
                #expect(!lines.contains { $0.contains(secret.dropFirst(3).prefix(20)) }, "not even part of one")
            }
        }
    }
}
