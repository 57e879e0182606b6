import Hummingbird
import HummingbirdTesting
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
import TokenKit
import TokenKitHummingbird
import TokenKitTesting

struct TokenManagerServiceTests {
    /// Waits until the manager's background work runs, so uses are left to it.
    static func waitUntilRunning(_ manager: TokenManager) async throws {
        while !manager.health.isRunning { try await Task.sleep(for: .milliseconds(5)) }
    }

    @Test func lastUsedTimesAreWrittenWhenTheApplicationShutsDown() async throws {
        let fixture = Fixture(lastUsedInterval: .seconds(3_600))
        let secret = try await fixture.token()
        let app = try makeApplication(fixture, services: [TokenManagerService(fixture.manager)])
        try await app.test(.router) { client in
            try await Self.waitUntilRunning(fixture.manager)
            let response = try await client.execute(
                uri: "/api/whoami",
                method: .get,
                headers: .auth("Bearer \(secret)")
            )
            #expect(response.status == .ok)
            #expect(fixture.manager.health.pendingUses == 1)
            #expect(fixture.store.records(owner: "alice").first?.lastUsedAt == nil)
        }
        #expect(fixture.manager.health.pendingUses == 0)
        #expect(!fixture.manager.health.isRunning)
        #expect(fixture.store.records(owner: "alice").first?.lastUsedAt == fixture.clock.now())
    }

    @Test func gracefulShutdownDrainsPendingUses() async throws {
        let fixture = Fixture(lastUsedInterval: .seconds(3_600))
        let secret = try await fixture.token()
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await TokenManagerService(fixture.manager).run() }
                try await Self.waitUntilRunning(fixture.manager)
                _ = try await fixture.manager.validate(authorization: "Bearer \(secret)").authenticated()
                #expect(fixture.manager.health.pendingUses == 1)
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(fixture.manager.health.pendingUses == 0)
        #expect(fixture.store.records(owner: "alice").first?.lastUsedAt != nil)
    }

    @Test func cancellationDrainsPendingUsesToo() async throws {
        let fixture = Fixture(lastUsedInterval: .seconds(3_600))
        let secret = try await fixture.token()
        let service = Task { try await TokenManagerService(fixture.manager).run() }
        try await Self.waitUntilRunning(fixture.manager)
        _ = try await fixture.manager.validate(authorization: "Bearer \(secret)").authenticated()
        service.cancel()
        try await service.value
        #expect(fixture.store.records(owner: "alice").first?.lastUsedAt != nil)
    }
}
