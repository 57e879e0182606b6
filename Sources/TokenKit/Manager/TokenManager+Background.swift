import Foundation
import Synchronization

extension TokenManager {
    // MARK: Background work

    /// Runs the manager's background work until the calling task is cancelled: writes last-used
    /// times every ``Configuration/lastUsedInterval``, runs store maintenance (such as compaction)
    /// every ``Configuration/maintenanceInterval``, and on cancellation writes what is still
    /// pending before it returns.
    ///
    /// Failures are not fatal: each is reported as a ``TokenAuditEvent/Kind/backgroundFailure``
    /// event and in ``health``, and retried with a growing backoff. Run it for the life of the
    /// server, in a task group or as a swift-service-lifecycle service:
    ///
    /// ```swift
    /// struct TokenManagerService: Service {
    ///     let manager: TokenManager
    ///     func run() async throws { try await cancelWhenGracefulShutdown { try await manager.run() } }
    /// }
    /// ```
    ///
    /// While it runs, no validation ever waits for a write. Without it, the first use noted after a
    /// write makes its validation write the batch.
    ///
    /// - Throws: The store's error if the final write of pending uses fails.
    public func run() async throws {
        runners.add(1, ordering: .sequentiallyConsistent)
        let tick = max(.milliseconds(10), min(configuration.lastUsedInterval, configuration.maintenanceInterval))
        var nextMaintenance = ContinuousClock.now + configuration.maintenanceInterval
        while true {
            do {
                try await Task.sleep(for: tick)
            } catch {
                break  // Cancelled: drain and return.
            }
            await writeUsage()
            if ContinuousClock.now >= nextMaintenance {
                await performMaintenance()
                nextMaintenance = ContinuousClock.now + configuration.maintenanceInterval
            }
        }
        // Stop counting as running first: a validation that noted a use before this sees the
        // manager running and leaves the use to the flush below; one after it writes its own
        // batch. (Both sides are sequentially consistent: a validation notes, then checks.)
        runners.subtract(1, ordering: .sequentiallyConsistent)
        try await usage.flush()
    }

    /// How background work has fared, and how many uses wait to be written.
    public var health: Health {
        let pending = usage.pendingCount
        return background.withLock { state in
            Health(
                lastFailure: state.lastFailure,
                consecutiveFailures: state.failures.values.reduce(0, +),
                pendingUses: pending,
                isRunning: isRunning
            )
        }
    }

    /// Whether ``run()`` is running.
    var isRunning: Bool { runners.load(ordering: .sequentiallyConsistent) > 0 }

    /// Writes pending last-used times unless backing off; reports a failure instead of throwing.
    /// Writes nothing while another flush is under way: that flush writes them.
    func writeUsage() async {
        await attempt(.recordUse, interval: configuration.lastUsedInterval) {
            try await usage.flushUnlessBusy()
        }
    }

    /// Runs the store's maintenance unless backing off; reports a failure instead of throwing.
    func performMaintenance() async {
        await attempt(.maintenance, interval: configuration.maintenanceInterval) {
            try await store.performMaintenance()
        }
    }

    private func attempt(
        _ operation: Health.Operation,
        interval: Duration,
        _ body: () async throws -> Void
    ) async {
        guard background.withLock({ $0.mayAttempt(operation, at: .now) }) else { return }
        do {
            try await body()
            background.withLock { $0.recordSuccess(operation) }
        } catch {
            let time = configuration.clock.now()
            let failure = Health.Failure(operation: operation, error: error, time: time)
            background.withLock { $0.recordFailure(failure, interval: interval, at: .now) }
            audit(
                TokenAuditEvent(
                    .backgroundFailure,
                    time: time,
                    detail: "\(operation) failed: \(error); retrying with backoff"
                )
            )
        }
    }
}
