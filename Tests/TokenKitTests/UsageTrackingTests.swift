import Foundation
import Testing
import TokenKit
import TokenKitTesting

struct UsageTrackingTests {
    @Test func oneHundredThousandValidationsInOneIntervalMakeOneWrite() async throws {
        let store = CountingStore()
        let clock = ManualClock()
        let manager = TokenManager(store: store, configuration: .init(clock: clock))
        let issued = try await manager.create(owner: "alice", name: "busy")
        for _ in 0..<100_000 {
            _ = try await manager.validate(issued.secret)
        }
        try await manager.flushUsage()
        let writes = store.useWrites
        #expect(writes.count == 1)
        #expect(writes.first == [issued.record.id: clock.now()])
        #expect(try await store.record(id: issued.record.id)?.lastUsedAt == clock.now())
    }

    @Test func aNewIntervalMakesANewWrite() async throws {
        let store = CountingStore()
        let clock = ManualClock()
        let manager = TokenManager(store: store, configuration: .init(lastUsedInterval: .seconds(60), clock: clock))
        let issued = try await manager.create(owner: "alice", name: "busy")
        _ = try await manager.validate(issued.secret)
        try await manager.flushUsage()
        clock.advance(by: .seconds(30))
        _ = try await manager.validate(issued.secret)
        try await manager.flushUsage()
        #expect(store.useWrites.count == 1)
        clock.advance(by: .seconds(31))
        _ = try await manager.validate(issued.secret)
        try await manager.flushUsage()
        #expect(store.useWrites.count == 2)
        #expect(try await store.record(id: issued.record.id)?.lastUsedAt == clock.now())
    }

    /// While `run()` runs, validations write nothing; its next tick (or its drain on cancellation)
    /// writes every noted use in one batch.
    @Test func manyTokensAreWrittenInOneBatchWhileRunning() async throws {
        let store = CountingStore()
        let manager = TokenManager(
            store: store,
            configuration: .init(lastUsedInterval: .seconds(3_600), clock: ManualClock())
        )
        var tokens: [IssuedToken] = []
        for index in 0..<50 {
            tokens.append(try await manager.create(owner: "alice", name: "t\(index)"))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await manager.run() }
            while !manager.health.isRunning { await Task.yield() }
            for token in tokens {
                _ = try await manager.validate(token.secret)
            }
            #expect(store.useWrites.isEmpty)
            #expect(manager.health.pendingUses == 50)
            group.cancelAll()
            try await group.waitForAll()
        }
        let written = store.useWrites.reduce(into: Set<TokenID>()) { $0.formUnion($1.keys) }
        #expect(written == Set(tokens.map(\.record.id)))
        #expect(store.useWrites.count == 1)
        #expect(manager.health.pendingUses == 0)
    }

    /// Without `run()`, the validation that notes the first pending use writes it, so uses are
    /// never lost for want of a background task.
    @Test func withoutRunAValidationWritesItsUse() async throws {
        let store = CountingStore()
        let manager = TokenManager(store: store, configuration: .init(clock: ManualClock()))
        let issued = try await manager.create(owner: "alice", name: "a")
        _ = try await manager.validate(issued.secret)
        #expect(store.useWrites.count == 1)
        #expect(try await store.record(id: issued.record.id)?.lastUsedAt != nil)
    }

    @Test func rejectedValidationsRecordNoUse() async throws {
        let store = CountingStore()
        let manager = TokenManager(store: store, configuration: .init(clock: ManualClock()))
        let issued = try await manager.create(owner: "alice", name: "a", scopes: ["read"])
        _ = try await manager.validate(issued.secret, requiring: ["write"])
        try await manager.flushUsage()
        #expect(store.useWrites.isEmpty)
    }
}
