import CoreMetrics
import Synchronization
import TokenKit

/// TokenKit's swift-metrics counters, for Prometheus or any metrics backend:
///
/// | counter | dimensions |
/// | --- | --- |
/// | `tokenkit_validations_total` | `outcome` (`valid`, `rejected`), `reason` (a ``TokenKit/RejectionReason`` code, for rejections) |
/// | `tokenkit_tokens_created_total` | |
/// | `tokenkit_tokens_revoked_total` | |
/// | `tokenkit_tokens_rotated_total` | |
/// | `tokenkit_tokens_deleted_total` | |
/// | `tokenkit_tokens_leaked_total` | |
/// | `tokenkit_authentications_throttled_total` | |
/// | `tokenkit_background_failures_total` | |
///
/// Validations are counted by ``recordValidation(_:)`` (``TokenRequestAuthenticator`` calls it);
/// the others from audit events: use the metrics as (or in) the manager's audit sink.
public struct TokenMetrics: TokenAuditSink {
    private let valid: Counter
    private let created: Counter
    private let revoked: Counter
    private let rotated: Counter
    private let deleted: Counter
    private let leaked: Counter
    private let throttled: Counter
    private let backgroundFailures: Counter
    private let rejected: RejectionCounters

    /// Creates the counters.
    ///
    /// - Parameter factory: Where the counters go; `nil` (the default) uses the factory
    ///   bootstrapped with `MetricsSystem`.
    public init(factory: (any MetricsFactory)? = nil) {
        @Sendable func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Counter {
            if let factory {
                Counter(label: label, dimensions: dimensions, factory: factory)
            } else {
                Counter(label: label, dimensions: dimensions)
            }
        }
        valid = counter("tokenkit_validations_total", [("outcome", "valid")])
        created = counter("tokenkit_tokens_created_total")
        revoked = counter("tokenkit_tokens_revoked_total")
        rotated = counter("tokenkit_tokens_rotated_total")
        deleted = counter("tokenkit_tokens_deleted_total")
        leaked = counter("tokenkit_tokens_leaked_total")
        throttled = counter("tokenkit_authentications_throttled_total")
        backgroundFailures = counter("tokenkit_background_failures_total")
        rejected = RejectionCounters { reason in
            counter("tokenkit_validations_total", [("outcome", "rejected"), ("reason", reason.code)])
        }
    }

    /// Counts a validation by its outcome.
    public func recordValidation(_ result: ValidationResult) {
        switch result {
        case .valid: valid.increment()
        case .rejected(let reason): rejected.counter(for: reason).increment()
        }
    }

    /// Counts a request refused by the failed-authentication throttle.
    public func recordThrottled() {
        throttled.increment()
    }

    /// Counts lifecycle events: creations, revocations, rotations, deletions, leaks, background
    /// failures.
    public func record(_ event: TokenAuditEvent) {
        switch event.kind {
        case .created: created.increment()
        case .revoked: revoked.increment()
        case .rotated: rotated.increment()
        case .deleted: deleted.increment()
        case .leaked: leaked.increment()
        case .backgroundFailure: backgroundFailures.increment()
        default: break
        }
    }
}

/// One counter per rejection reason, made on first use (reasons are few) and kept.
private final class RejectionCounters: Sendable {
    private let counters = Mutex<[RejectionReason: Counter]>([:])
    private let make: @Sendable (RejectionReason) -> Counter

    init(make: @escaping @Sendable (RejectionReason) -> Counter) {
        self.make = make
    }

    func counter(for reason: RejectionReason) -> Counter {
        counters.withLock { counters in
            if let counter = counters[reason] { return counter }
            let counter = make(reason)
            counters[reason] = counter
            return counter
        }
    }
}
