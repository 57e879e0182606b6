import Foundation
import Synchronization

/// Remembers which tokens have been warned about, so that each token is warned about at most once
/// per expiry date (a new expiry, after an update or a rotation, warns again).
final class ExpiryWarnings: Sendable {
    private struct Key: Hashable {
        var id: TokenID
        var expiresAt: Date
    }

    private let warned = Mutex<Set<Key>>([])
    private let window: TimeInterval

    init(window: Duration) {
        self.window = window.timeInterval
    }

    /// Whether `record`, valid at `now`, should be warned about now; records it if so.
    func shouldWarn(about record: TokenRecord, at now: Date) -> Bool {
        guard let expiresAt = record.expiresAt, expiresAt.timeIntervalSince(now) <= window else { return false }
        return warned.withLock { warned in
            if warned.count > 10_000 {
                warned = warned.filter { $0.expiresAt > now }
            }
            return warned.insert(Key(id: record.id, expiresAt: expiresAt)).inserted
        }
    }
}
