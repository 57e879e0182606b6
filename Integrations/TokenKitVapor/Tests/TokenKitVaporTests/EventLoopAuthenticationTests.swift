import Testing
import TokenKit
import TokenKitTesting
import TokenKitVapor
import Vapor

/// The authenticators validate on the request's event loop, without a task, when TokenKit answers
/// at once, and in a task, awaiting the store, when it does not.
struct EventLoopAuthenticationTests {
    /// Boots the application and waits until its manager runs (the lifecycle handler starts it).
    func bootAndWaitUntilRunning(_ test: TestApplication) async throws {
        try await test.app.asyncBoot()
        let deadline = ContinuousClock.now + .seconds(10)
        while !test.manager.health.isRunning {
            try #require(ContinuousClock.now < deadline, "the manager did not start running")
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test func aTokenTheStoreAnswersAtOnceIsLoggedInBeforeTheFutureIsAwaited() async throws {
        try await TestApplication.run { test in
            try await bootAndWaitUntilRunning(test)
            let issued = try await test.manager.create(owner: "alice", name: "deploy")
            let bearer = try test.makeRequest("/", authorization: "Bearer \(issued.secret)")
            let authenticating = TokenBearerAuthenticator().authenticate(request: bearer)
            // Answered in the call itself: no task ran meanwhile.
            #expect(bearer.auth.get(AuthenticatedToken.self)?.record.id == issued.record.id)
            try await authenticating.get()

            let cpanel = try test.makeRequest("/", authorization: "cpanel bob:\(issued.secret)")
            let refusing = TokenAuthenticator().authenticate(request: cpanel)
            #expect(test.failureLog("token.reason") == ["wrong_owner"])
            try await refusing.get()
            #expect(!cpanel.auth.has(AuthenticatedToken.self))
        }
    }

    @Test func withoutARunningManagerTheStoreIsAwaitedInATask() async throws {
        // Not booted: the manager does not run, so a valid use may need writing before the answer.
        try await TestApplication.run { test in
            let issued = try await test.manager.create(owner: "alice", name: "deploy")
            #expect(!test.manager.health.isRunning)
            let valid = try test.makeRequest("/", authorization: "Bearer \(issued.secret)")
            try await TokenBearerAuthenticator().authenticate(request: valid).get()
            #expect(valid.auth.get(AuthenticatedToken.self)?.record.id == issued.record.id)
            // The awaited validation wrote the use, as validate does without run().
            #expect(try await test.manager.token(id: issued.record.id)?.lastUsedAt != nil)

            let unknown = try test.makeRequest("/", authorization: "Bearer \(TokenFormat.default.generate())")
            try await TokenAuthenticator(accepting: [.bearer]).authenticate(request: unknown).get()
            #expect(!unknown.auth.has(AuthenticatedToken.self))
            #expect(test.failureLog("token.reason") == ["unknown"])
        }
    }

    @Test func aStoreFailureInTheTaskAnswers503() async throws {
        try await TestApplication.run(provider: .store(FailingTokenStore())) { test in
            let request = try test.makeRequest("/", authorization: "Bearer \(TokenFormat.default.generate())")
            await #expect(throws: TokenAbortError.self) {
                try await TokenBearerAuthenticator().authenticate(request: request).get()
            }
            let response = try await test.send("/bearer", authorization: "Bearer \(TokenFormat.default.generate())")
            #expect(response.status == .serviceUnavailable)
        }
    }

    @Test func theGuardAnswersOnTheEventLoop() async throws {
        try await TestApplication.run { test in
            try await bootAndWaitUntilRunning(test)
            let issued = try await test.manager.create(owner: "alice", name: "deploy", scopes: ["dns:read"])
            #expect(try await test.send("/bearer", authorization: "Bearer \(issued.secret)").status == .ok)
            #expect(try await test.send("/scoped", authorization: "Bearer \(issued.secret)").status == .forbidden)
            #expect(try await test.send("/bearer").status == .unauthorized)
            #expect(try await test.send("/bearer").headers.first(name: .wwwAuthenticate) == "Bearer")
        }
    }
}
