import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TokenKit
import TokenKitHummingbird
import TokenKitServerSupport
import TokenKitTesting

struct ThrottlingTests {
    static let attacker = "198.51.100.9"
    static let neighbour = "198.51.100.10"

    @Test func aClientThatKeepsFailingGets429WithRetryAfterThenCoolsDown() async throws {
        let fixture = Fixture()
        let secret = try await fixture.token()
        let clock = ThrottleClock()
        let throttle = FailedAuthenticationThrottle(
            configuration: .init(maximumFailures: 3, window: .seconds(60), blockDuration: .seconds(30)),
            now: clock.now
        )
        try await makeApplication(fixture, throttle: throttle).test(.router) { client in
            for _ in 0..<3 {
                let failed = try await client.execute(
                    uri: "/api/whoami",
                    method: .get,
                    headers: .auth("Bearer tk_guess", peer: Self.attacker)
                )
                #expect(failed.status == .unauthorized)
            }
            // Blocked: even a valid token is not checked, on every route sharing the throttle.
            let blocked = try await client.execute(
                uri: "/api/whoami",
                method: .get,
                headers: .auth("Bearer \(secret)", peer: Self.attacker)
            )
            #expect(blocked.status == .tooManyRequests)
            #expect(blocked.headers[.retryAfter] == "30")
            let cpanel = try await client.execute(
                uri: "/cpanel/whoami",
                method: .get,
                headers: .auth("cpanel alice:\(secret)", peer: Self.attacker)
            )
            #expect(cpanel.status == .tooManyRequests)

            // Other clients are not affected.
            let neighbour = try await client.execute(
                uri: "/api/whoami",
                method: .get,
                headers: .auth("Bearer \(secret)", peer: Self.neighbour)
            )
            #expect(neighbour.status == .ok)

            clock.advance(by: .seconds(20))
            let later = try await client.execute(
                uri: "/api/whoami",
                method: .get,
                headers: .auth("Bearer \(secret)", peer: Self.attacker)
            )
            #expect(later.status == .tooManyRequests)
            #expect(later.headers[.retryAfter] == "10")

            clock.advance(by: .seconds(11))
            let cooled = try await client.execute(
                uri: "/api/whoami",
                method: .get,
                headers: .auth("Bearer \(secret)", peer: Self.attacker)
            )
            #expect(cooled.status == .ok)
        }
    }

    @Test func requestsWithoutCredentialsAreNotCounted() async throws {
        let fixture = Fixture()
        let secret = try await fixture.token()
        let throttle = FailedAuthenticationThrottle(configuration: .init(maximumFailures: 2))
        try await makeApplication(fixture, throttle: throttle).test(.router) { client in
            for _ in 0..<5 {
                let anonymous = try await client.execute(
                    uri: "/api/whoami",
                    method: .get,
                    headers: .auth(nil, peer: Self.attacker)
                )
                #expect(anonymous.status == .unauthorized)
            }
            let valid = try await client.execute(
                uri: "/api/whoami",
                method: .get,
                headers: .auth("Bearer \(secret)", peer: Self.attacker)
            )
            #expect(valid.status == .ok)
        }
    }
}
