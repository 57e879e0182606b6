import Foundation
import Synchronization
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

    /// Runs `authenticator` on `request`'s event loop and reports whether its future was already
    /// complete when it returned.
    func completesAtOnce(
        _ authenticator: some Middleware & RequestAuthenticator,
        _ request: Request
    ) async throws -> Bool {
        try await completesAtOnce(request) { authenticator.authenticate(request: $0) }
    }

    /// Runs `respond` on `request`'s event loop and reports whether its future was already complete
    /// when it returned. Deterministic: a future a task completes runs its callbacks on the event
    /// loop, which is busy with this very closure until it returns.
    func completesAtOnce<Value: Sendable>(
        _ request: Request,
        _ respond: @escaping @Sendable (Request) -> EventLoopFuture<Value>
    ) async throws -> Bool {
        let future = try await request.eventLoop.submit {
            let responding = respond(request)
            let completed = Mutex(false)
            responding.whenComplete { _ in completed.withLock { $0 = true } }
            return (completed.withLock { $0 }, responding)
        }.get()
        // Ignoring the outcome is safe: each test checks it itself, on the request or by awaiting
        // the call again.
        _ = try? await future.1.get()
        return future.0
    }

    @Test func aTokenTheStoreAnswersAtOnceIsValidatedWithoutATask() async throws {
        try await TestApplication.run { test in
            try await bootAndWaitUntilRunning(test)
            let issued = try await test.manager.create(owner: "alice", name: "deploy")
            // The first validation binds the manager's hasher; creating did.
            let bearer = try test.makeRequest("/", authorization: "Bearer \(issued.secret)")
            #expect(try await completesAtOnce(TokenBearerAuthenticator(), bearer))
            #expect(bearer.auth.get(AuthenticatedToken.self)?.record.id == issued.record.id)

            let cpanel = try test.makeRequest("/", authorization: "cpanel bob:\(issued.secret)")
            #expect(try await completesAtOnce(TokenAuthenticator(), cpanel))
            #expect(!cpanel.auth.has(AuthenticatedToken.self))
            #expect(test.failureLog("token.reason") == ["wrong_owner"])
        }
    }

    @Test func aStoreFailureOnTheEventLoopAnswers503() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenkit-vapor-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("tokens.tkstore").path
        try await TestApplication.run(provider: .file(path: path)) { test in
            try await bootAndWaitUntilRunning(test)
            let issued = try await test.manager.create(owner: "alice", name: "deploy")
            try FileManager.default.removeItem(atPath: path)
            // A reader checks that its files are still its own at most once a second.
            try await Task.sleep(for: .milliseconds(1_100))
            let request = try test.makeRequest("/", authorization: "Bearer \(issued.secret)")
            #expect(try await completesAtOnce(TokenBearerAuthenticator(), request))
            let error = await #expect(throws: TokenAbortError.self) {
                try await TokenBearerAuthenticator().authenticate(request: request).get()
            }
            #expect(error?.status == .serviceUnavailable)
            #expect(!request.auth.has(AuthenticatedToken.self))
        }
    }

    @Test func withoutARunningManagerTheStoreIsAwaitedInATask() async throws {
        // Not booted: the manager does not run, so a valid use may need writing before the answer.
        try await TestApplication.run { test in
            let issued = try await test.manager.create(owner: "alice", name: "deploy")
            #expect(!test.manager.health.isRunning)
            let valid = try test.makeRequest("/", authorization: "Bearer \(issued.secret)")
            #expect(try await !completesAtOnce(TokenBearerAuthenticator(), valid))
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
            // The hasher cannot be bound, so the validation awaits the store, in a task.
            #expect(try await !completesAtOnce(TokenBearerAuthenticator(), request))
            let error = await #expect(throws: TokenAbortError.self) {
                try await TokenBearerAuthenticator().authenticate(request: request).get()
            }
            #expect(error?.status == .serviceUnavailable)
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
            // Without a task: refused, and passed on to a responder that answers at once.
            let next = BasicResponder { request in request.eventLoop.makeSucceededFuture(Response()) }
            let anonymous = try test.makeRequest("/")
            #expect(try await completesAtOnce(anonymous) { TokenGuardMiddleware().respond(to: $0, chainingTo: next) })
            let bearer = try test.makeRequest("/", authorization: "Bearer \(issued.secret)")
            #expect(try await completesAtOnce(TokenBearerAuthenticator(), bearer))
            #expect(try await completesAtOnce(bearer) { TokenGuardMiddleware().respond(to: $0, chainingTo: next) })
            #expect(try await TokenGuardMiddleware().respond(to: bearer, chainingTo: next).get().status == .ok)
        }
    }
}
