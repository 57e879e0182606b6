import Foundation
import Testing
import TokenKit
import TokenKitTesting

struct ConcurrencyTests {
    /// 1,000 tasks create, validate and revoke at once; afterwards the store agrees with what each
    /// task was told.
    @Test func thousandConcurrentOperationsLeaveAConsistentStore() async throws {
        let store = InMemoryTokenStore()
        let manager = TokenManager(store: store)
        enum Outcome: Sendable {
            case created(IssuedToken)
            case duplicate
            case revoked(owner: String, name: String)
            case revokeMissed
            case validated(Bool)
        }
        // 10 owners × 40 names, each name contended by two creators; revokers and validators race them.
        let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
            for task in 0..<1_000 {
                let owner = "owner\(task % 10)"
                let name = "n\((task / 10) % 40)"
                group.addTask {
                    switch task % 5 {
                    case 0, 1, 2:
                        do {
                            return .created(try await manager.create(owner: owner, name: name))
                        } catch let error as TokenKitError where error.code == .duplicateName {
                            return .duplicate
                        }
                    case 3:
                        do {
                            try await manager.revoke(owner: owner, name: name)
                            return .revoked(owner: owner, name: name)
                        } catch let error as TokenKitError where error.code == .tokenNotFound {
                            return .revokeMissed
                        }
                    default:
                        let token = TokenFormat.default.generate()
                        return .validated(try await manager.validate(token).record != nil)
                    }
                }
            }
            return try await group.reduce(into: [Outcome]()) { $0.append($1) }
        }
        #expect(outcomes.count == 1_000)

        let created = outcomes.compactMap { if case .created(let token) = $0 { token } else { nil } }
        let revocations = outcomes.count { if case .revoked = $0 { true } else { false } }
        #expect(!outcomes.contains { if case .validated(true) = $0 { true } else { false } })
        #expect(store.count == created.count)

        // Every created token is in the store and validates unless it was revoked.
        var revokedSeen = 0
        for issued in created {
            let result = try await manager.validate(issued.secret)
            switch result {
            case .valid(let record): #expect(record.id == issued.record.id)
            case .rejected(let reason):
                #expect(reason == .revoked)
                revokedSeen += 1
            }
        }
        #expect(revokedSeen == revocations)

        // Live names are unique per owner.
        for owner in (0..<10).map({ "owner\($0)" }) {
            let live = try await manager.list(owner: owner).map(\.name)
            #expect(Set(live).count == live.count)
        }
    }
}
