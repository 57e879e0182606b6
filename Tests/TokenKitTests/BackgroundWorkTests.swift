import Foundation
import Synchronization
import Testing
import TokenKit
import TokenKitTesting

/// `TokenManager.run()`, `flushUsage()` and health: structured background work with no silent
/// failures.
struct BackgroundWorkTests {
    func manager(_ store: GatedStore, audit: RecordingAuditSink = RecordingAuditSink()) -> TokenManager {
        TokenManager(
            store: store,
            configuration: .init(
                lastUsedInterval: .milliseconds(20),
                maintenanceInterval: .milliseconds(20),
                clock: ManualClock(),
                auditSink: audit
            )
        )
    }

    /// Polls `condition` for up to ten seconds.
    func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<1_000 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func runDrainsPendingUsesWhenCancelled() async throws {
        let store = GatedStore()
        let manager = TokenManager(
            store: store,
            configuration: .init(lastUsedInterval: .seconds(3_600), clock: ManualClock())
        )
        let issued = try await manager.create(owner: "alice", name: "a")
        let runner = Task { try await manager.run() }
        #expect(try await eventually { manager.health.isRunning })
        _ = try await manager.validate(issued.secret)
        #expect(store.writesStarted == 0)
        runner.cancel()
        try await runner.value
        #expect(store.writesStarted == 1)
        #expect(try await manager.token(id: issued.record.id)?.lastUsedAt != nil)
        #expect(!manager.health.isRunning)
    }

    @Test func runWritesUsesOnItsInterval() async throws {
        let store = GatedStore()
        let manager = manager(store)
        let issued = try await manager.create(owner: "alice", name: "a")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await manager.run() }
            #expect(try await eventually { manager.health.isRunning })
            _ = try await manager.validate(issued.secret)
            #expect(try await eventually { store.writesStarted == 1 })
            #expect(try await eventually { manager.health.pendingUses == 0 })
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    /// `flushUsage()` must not return while a flush that holds its batch is still writing.
    @Test func flushUsageWaitsForAFlushUnderWay() async throws {
        let store = GatedStore()
        let manager = TokenManager(store: store, configuration: .init(clock: ManualClock()))
        let issued = try await manager.create(owner: "alice", name: "a")
        store.closeGate()
        // The validation starts the batch and writes it, held at the gate.
        let validation = Task { try await manager.validate(issued.secret) }
        #expect(try await eventually { store.writesStarted == 1 })
        let flushed = Flag()
        let flush = Task {
            try await manager.flushUsage()
            flushed.set()
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(!flushed.isSet)
        store.openGate()
        try await flush.value
        _ = try await validation.value
        #expect(flushed.isSet)
        #expect(try await manager.token(id: issued.record.id)?.lastUsedAt != nil)
    }

    @Test func aFailedWriteIsReportedKeptAndRetried() async throws {
        let store = GatedStore()
        let audit = RecordingAuditSink()
        let manager = manager(store, audit: audit)
        let issued = try await manager.create(owner: "alice", name: "a")
        store.failWrites(true)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await manager.run() }
            #expect(try await eventually { manager.health.isRunning })
            _ = try await manager.validate(issued.secret)
            #expect(try await eventually { !manager.health.isHealthy })
            let health = manager.health
            #expect(health.lastFailure?.operation == .recordUse)
            #expect(health.pendingUses == 1)
            #expect(
                audit.events.contains { $0.kind == .backgroundFailure && $0.detail?.contains("record_use") == true }
            )
            store.failWrites(false)
            #expect(try await eventually { manager.health.isHealthy && manager.health.pendingUses == 0 })
            group.cancelAll()
            try await group.waitForAll()
        }
        #expect(try await manager.token(id: issued.record.id)?.lastUsedAt != nil)
        #expect(manager.health.lastFailure != nil)
    }

    @Test func aFailedMaintenanceIsReported() async throws {
        let store = GatedStore()
        let audit = RecordingAuditSink()
        let manager = manager(store, audit: audit)
        store.failMaintenance(true)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await manager.run() }
            #expect(try await eventually { manager.health.lastFailure?.operation == .maintenance })
            #expect((manager.health.lastFailure?.error as? TokenKitError)?.code == .storageFull)
            #expect(
                audit.events.contains { $0.kind == .backgroundFailure && $0.detail?.contains("disk is full") == true }
            )
            store.failMaintenance(false)
            #expect(try await eventually { manager.health.isHealthy })
            group.cancelAll()
            try await group.waitForAll()
        }
    }
}

/// A flag set from one task and read from another.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
