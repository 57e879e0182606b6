import Foundation
import Testing
import TokenKit
import TokenKitVapor
import Vapor
import VaporTesting

struct LifecycleTests {
    @Test func lastUsedWritesAreDrainedOnShutdown() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenkit-vapor-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("tokens.tkstore").path
        // An hour between writes: the use below stays pending until shutdown drains it.
        let configuration = TokenManager.Configuration(lastUsedInterval: .seconds(3_600))

        let (id, manager) = try await TestApplication.run(provider: .file(path: path), configuration: configuration) {
            test in
            let issued = try await test.manager.create(owner: "alice", name: "deploy")
            _ = try test.app.testing()  // Boots the application, which starts the manager's run().
            try await waitUntil { test.manager.health.isRunning }
            #expect(try await test.send("/bearer", authorization: "Bearer \(issued.secret)").status == .ok)
            #expect(test.manager.health.pendingUses == 1)
            return (issued.record.id, test.manager)
        }

        #expect(!manager.health.isRunning, "shutdown cancelled run() and waited for it")
        #expect(manager.health.pendingUses == 0)
        let reopened = TokenManager(store: try FileTokenStore(path: path))
        let record = try #require(try await reopened.token(id: id))
        #expect(record.lastUsedAt != nil)
    }

    @Test func handlerRunsAManagerOfYourOwn() async throws {
        let manager = TokenManager(store: InMemoryTokenStore())
        let app = try await Application.make(.testing)
        app.lifecycle.use(TokenManagerLifecycleHandler(manager: manager))
        try await app.asyncBoot()
        try await waitUntil { manager.health.isRunning }
        try await app.asyncShutdown()
        #expect(!manager.health.isRunning)
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
