import Foundation
import TokenKit
import TokenKitTesting

/// A manager over a fresh in-memory store, with a manual clock and a recording audit sink.
struct ManagerFixture {
    let clock = ManualClock()
    let audit = RecordingAuditSink()
    let store: InMemoryTokenStore
    let manager: TokenManager

    init(
        expiryPolicy: ExpiryPolicy = .default,
        maximumLiveTokensPerOwner: Int? = nil,
        hasher: any TokenHasher = SHA256Hasher(),
        store: InMemoryTokenStore = InMemoryTokenStore()
    ) {
        self.store = store
        manager = TokenManager(
            store: store,
            configuration: .init(
                hasher: hasher,
                expiryPolicy: expiryPolicy,
                maximumLiveTokensPerOwner: maximumLiveTokensPerOwner,
                clock: clock,
                auditSink: audit
            )
        )
    }

    var now: Date { clock.now() }
}

/// Runs `body` and returns the ``TokenKitError`` it throws, or `nil` if it throws none.
func tokenKitError(_ body: () async throws -> Void) async -> TokenKitError? {
    do {
        try await body()
        return nil
    } catch let error as TokenKitError {
        return error
    } catch {
        return nil
    }
}
