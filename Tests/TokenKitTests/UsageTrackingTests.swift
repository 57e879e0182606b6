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

    @Test func manyTokensAreWrittenInOneBatch() async throws {
        let store = CountingStore()
        let manager = TokenManager(store: store, configuration: .init(clock: ManualClock()))
        var tokens: [IssuedToken] = []
        for index in 0..<50 {
            tokens.append(try await manager.create(owner: "alice", name: "t\(index)"))
        }
        for token in tokens {
            _ = try await manager.validate(token.secret)
        }
        try await manager.flushUsage()
        let written = store.useWrites.reduce(into: Set<TokenID>()) { $0.formUnion($1.keys) }
        #expect(written == Set(tokens.map(\.record.id)))
        #expect(store.useWrites.count < 50)
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
