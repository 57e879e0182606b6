import Foundation
import TokenKit
import TokenKitTesting

/// The two stores TokenKit ships, so that feature tests run against both, and a store of a user's
/// own: a wrapper the manager cannot see into, so that it validates from records
/// (``TokenStore/record(forDigest:)``) rather than from TokenKit's index.
enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case memory
    case file
    case wrapped

    var description: String { rawValue }
}

/// A manager over one backend, with a manual clock and a recording audit sink, that can be
/// "reopened": for the file backend a new store is opened on the same file, as after a restart.
final class BackendFixture {
    let backend: Backend
    let clock = ManualClock()
    let audit = RecordingAuditSink()
    let directory = TemporaryDirectory()
    let configuration: (ManualClock, RecordingAuditSink) -> TokenManager.Configuration
    private(set) var manager: TokenManager
    private let memoryStore = InMemoryTokenStore()

    init(
        _ backend: Backend,
        configuration: @escaping (ManualClock, RecordingAuditSink) -> TokenManager.Configuration = {
            .init(clock: $0, auditSink: $1)
        }
    ) throws {
        self.backend = backend
        self.configuration = configuration
        manager = TokenManager(store: memoryStore, configuration: configuration(clock, audit))
        manager = try makeManager()
    }

    private func makeManager() throws -> TokenManager {
        let store: any TokenStore =
            switch backend {
            case .memory: memoryStore
            case .wrapped: CountingStore(memoryStore)
            case .file: try FileTokenStore(path: directory.file("tokens"), options: .init(compactionThreshold: 20))
            }
        return TokenManager(store: store, configuration: configuration(clock, audit))
    }

    /// Flushes last-used times and replaces the manager with one over a freshly opened store.
    func reopen() async throws {
        try await manager.flushUsage()
        manager = try makeManager()
    }

    var now: Date { clock.now() }
}
