import Synchronization
import TokenKit

/// An audit sink that keeps every event, so tests can assert on them.
public final class RecordingAuditSink: TokenAuditSink {
    private let storage = Mutex<[TokenAuditEvent]>([])

    /// Creates an empty sink.
    public init() {}

    /// Keeps `event`.
    public func record(_ event: TokenAuditEvent) {
        storage.withLock { $0.append(event) }
    }

    /// Every event received, oldest first.
    public var events: [TokenAuditEvent] {
        storage.withLock { $0 }
    }

    /// Forgets every event received.
    public func removeAll() {
        storage.withLock { $0.removeAll() }
    }
}
