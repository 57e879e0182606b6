import Testing
import TokenKit
import TokenKitServerSupport
import TokenKitVapor
import Vapor

struct ThrottleTests {
    private static let options = Application.Tokens.Options(
        throttle: FailedAuthenticationThrottle.Configuration(
            maximumFailures: 3,
            window: .seconds(60),
            blockDuration: .seconds(90)
        )
    )

    @Test func clientOverTheFailureLimitGets429WithRetryAfter() async throws {
        try await TestApplication.run(options: Self.options) { test in
            let issued = try await test.manager.create(owner: "alice", name: "deploy")
            for _ in 0..<3 {
                let response = try await test.send("/bearer", from: "198.51.100.9", authorization: "Bearer tk_wrong")
                #expect(response.status == .unauthorized)
            }

            // Blocked now, even with a good token; the token is not even checked.
            let blocked = try await test.send("/bearer", from: "198.51.100.9", authorization: "Bearer \(issued.secret)")
            #expect(blocked.status == .tooManyRequests)
            let retryAfter = try #require(blocked.headers.first(name: "Retry-After").flatMap { Int($0) })
            #expect((89...90).contains(retryAfter))

            // Another client is not affected.
            let other = try await test.send("/bearer", from: "198.51.100.10", authorization: "Bearer \(issued.secret)")
            #expect(other.status == .ok)
        }
    }

    @Test func requestsWithoutCredentialsAreNotCounted() async throws {
        try await TestApplication.run(options: Self.options) { test in
            let issued = try await test.manager.create(owner: "alice", name: "deploy")
            for _ in 0..<5 {
                #expect(try await test.send("/bearer", from: "198.51.100.9").status == .unauthorized)
            }
            let response = try await test.send(
                "/bearer",
                from: "198.51.100.9",
                authorization: "Bearer \(issued.secret)"
            )
            #expect(response.status == .ok)
        }
    }

    @Test func throttleIsOffByDefault() async throws {
        try await TestApplication.run { test in
            #expect(test.app.tokens.throttle == nil)
            for _ in 0..<30 {
                let response = try await test.send("/bearer", from: "198.51.100.9", authorization: "Bearer tk_wrong")
                #expect(response.status == .unauthorized)
            }
        }
    }
}
