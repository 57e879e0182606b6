import MetricsTestKit
import Testing
import TokenKit
import TokenKitServerSupport
import TokenKitTesting

extension TokenRequestAuthenticator.Outcome {
    /// The authenticated token's id (its last-used time moves as it is used).
    var tokenID: TokenID? {
        if case .authenticated(let record) = self { return record.id }
        return nil
    }
}

struct RequestAuthenticatorTests {
    let manager = TokenManager(store: InMemoryTokenStore(), configuration: .init(clock: ManualClock()))
    let client = IPAddress("192.0.2.1")

    @Test func validTokensAuthenticateAndOtherSchemesAreRefused() async throws {
        let issued = try await manager.create(owner: "alice", name: "ci", scopes: ["read"])
        let bearer = TokenRequestAuthenticator(manager: manager)
        #expect(
            try await bearer.authenticate(authorization: "Bearer \(issued.secret)", peer: client).tokenID
                == issued.record.id
        )
        #expect(
            try await bearer.authenticate(authorization: "cpanel alice:\(issued.secret)", peer: client)
                == .refused(.schemeNotAccepted)
        )
        #expect(
            try await bearer.authenticate(authorization: "Bearer \(issued.secret)", peer: client, requiring: ["write"])
                == .refused(.missingScope)
        )
        let cpanel = TokenRequestAuthenticator(manager: manager, schemes: [.cpanel, .whm])
        #expect(
            try await cpanel.authenticate(authorization: "whm alice:\(issued.secret)", peer: client).tokenID
                == issued.record.id
        )
        #expect(
            try await cpanel.authenticate(authorization: "cpanel bob:\(issued.secret)", peer: client)
                == .refused(.wrongOwner)
        )
    }

    @Test func failuresThrottleTheClientButMissingCredentialsDoNot() async throws {
        let issued = try await manager.create(owner: "alice", name: "ci")
        let throttle = FailedAuthenticationThrottle(configuration: .init(maximumFailures: 3))
        let authenticator = TokenRequestAuthenticator(manager: manager, throttle: throttle)
        for _ in 0..<10 {
            #expect(
                try await authenticator.authenticate(authorization: nil, peer: client) == .refused(.missingCredentials)
            )
            // A scheme another authenticator may take is no failure of this one's.
            #expect(
                try await authenticator.authenticate(authorization: "Basic dXNlcjpwYXNz", peer: client)
                    == .refused(.schemeNotAccepted)
            )
        }
        for _ in 0..<3 {
            #expect(
                try await authenticator.authenticate(authorization: "Bearer bad", peer: client) == .refused(.malformed)
            )
        }
        guard
            case .throttled(let retryAfter) = try await authenticator.authenticate(
                authorization: "Bearer \(issued.secret)",
                peer: client
            )
        else {
            Issue.record("the client was not throttled after 3 failures")
            return
        }
        #expect(TokenRequestAuthenticator.retryAfterSeconds(retryAfter) == 60)
        let other = IPAddress("192.0.2.2")
        #expect(
            try await authenticator.authenticate(authorization: "Bearer \(issued.secret)", peer: other).tokenID
                == issued.record.id
        )
    }

    @Test func allowListsSeeTheClientBehindATrustedProxy() async throws {
        let issued = try await manager.create(
            owner: "alice",
            name: "ci",
            allowedNetworks: [try IPNetwork(parsing: "192.0.2.0/24")]
        )
        let authenticator = TokenRequestAuthenticator(
            manager: manager,
            addresses: ClientAddressResolver(trustedProxies: [try IPNetwork(parsing: "10.0.0.0/8")])
        )
        let header = "Bearer \(issued.secret)"
        #expect(
            try await authenticator.authenticate(
                authorization: header,
                peer: IPAddress("10.0.0.5"),
                xForwardedFor: ["192.0.2.1"]
            ).tokenID == issued.record.id
        )
        #expect(
            try await authenticator.authenticate(
                authorization: header,
                peer: IPAddress("198.51.100.5"),
                xForwardedFor: ["192.0.2.1"]
            ) == .refused(.addressNotAllowed)
        )
    }

    @Test func authenticatingImmediatelyCountsAsAuthenticateDoesAndNothingWhenItMustWait() async throws {
        let issued = try await manager.create(owner: "alice", name: "ci")
        let metrics = TestMetrics()
        let throttle = FailedAuthenticationThrottle(configuration: .init(maximumFailures: 2))
        let authenticator = TokenRequestAuthenticator(
            manager: manager,
            throttle: throttle,
            metrics: TokenMetrics(factory: metrics)
        )
        // Without run(), a valid use might have to be written before the answer: nothing is counted.
        #expect(try authenticator.authenticateImmediately(authorization: "Bearer bad", peer: client) == nil)
        #expect(
            metrics.counterTotal(
                label: "tokenkit_validations_total",
                dimensions: [("outcome", "rejected"), ("reason", "malformed")]
            ) == 0
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await manager.run() }
            while !manager.health.isRunning { try await Task.sleep(for: .milliseconds(1)) }
            let header = "Bearer \(issued.secret)"
            #expect(
                try authenticator.authenticateImmediately(authorization: header, peer: client)?.tokenID
                    == issued.record.id
            )
            for _ in 0..<2 {
                #expect(
                    try authenticator.authenticateImmediately(authorization: "Bearer bad", peer: client)
                        == .refused(.malformed)
                )
            }
            guard case .throttled = try authenticator.authenticateImmediately(authorization: header, peer: client)
            else {
                Issue.record("the client was not throttled after 2 failures")
                return
            }
            group.cancelAll()
            try await group.waitForAll()
        }
        #expect(metrics.counterTotal(label: "tokenkit_validations_total", dimensions: [("outcome", "valid")]) == 1)
        #expect(
            metrics.counterTotal(
                label: "tokenkit_validations_total",
                dimensions: [("outcome", "rejected"), ("reason", "malformed")]
            ) == 2
        )
        #expect(metrics.counterTotal(label: "tokenkit_authentications_throttled_total") == 1)
    }

    @Test func retryAfterRoundsUp() {
        #expect(TokenRequestAuthenticator.retryAfterSeconds(.milliseconds(1)) == 1)
        #expect(TokenRequestAuthenticator.retryAfterSeconds(.milliseconds(59_001)) == 60)
        #expect(TokenRequestAuthenticator.retryAfterSeconds(.seconds(30)) == 30)
    }
}
