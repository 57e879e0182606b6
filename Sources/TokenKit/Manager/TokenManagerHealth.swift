import Foundation

extension TokenManager {
    /// How the manager's background work — last-used writes and store maintenance — has fared:
    /// for a health check endpoint or a metrics gauge. Read it with ``TokenManager/health``.
    public struct Health: Sendable, CustomStringConvertible {
        /// Background work that can fail.
        public struct Operation: Hashable, Sendable, CustomStringConvertible {
            /// The operation's stable name.
            public let rawValue: String

            private init(_ rawValue: String) {
                self.rawValue = rawValue
            }

            /// Writing last-used times (``TokenStore/recordUse(_:)``).
            public static let recordUse = Operation("record_use")
            /// Store maintenance, such as compaction (``TokenStore/performMaintenance()``).
            public static let maintenance = Operation("maintenance")

            /// The stable name.
            public var description: String { rawValue }
        }

        /// The most recent failure.
        public struct Failure: Sendable {
            /// What failed.
            public let operation: Operation
            /// The error, such as a ``TokenKitError`` with code ``TokenKitError/Code/storageFull``.
            public let error: any Error
            /// When it failed, by the manager's clock.
            public let time: Date
        }

        /// The most recent failure, kept after later successes for inspection.
        public internal(set) var lastFailure: Failure?
        /// Failures since the last success of each operation, added up; zero when all is well.
        public internal(set) var consecutiveFailures: Int
        /// Last-used times noted and not yet written.
        public internal(set) var pendingUses: Int
        /// Whether ``TokenManager/run()`` is running.
        public internal(set) var isRunning: Bool

        /// Whether the latest attempt of every operation succeeded.
        public var isHealthy: Bool { consecutiveFailures == 0 }

        /// A one-line summary, such as `healthy, 3 uses pending`.
        public var description: String {
            var text = isHealthy ? "healthy" : "\(consecutiveFailures) consecutive failures"
            text += ", \(pendingUses) uses pending"
            if let lastFailure {
                text += "; last failure: \(lastFailure.operation) at \(lastFailure.time): \(lastFailure.error)"
            }
            return text
        }
    }

    /// The state behind ``Health``, with the backoff of each operation.
    struct BackgroundState {
        var lastFailure: Health.Failure?
        var failures: [Health.Operation: Int] = [:]
        var retryAfter: [Health.Operation: ContinuousClock.Instant] = [:]

        /// Whether `operation` may be attempted at `now`, or is waiting out its backoff.
        func mayAttempt(_ operation: Health.Operation, at now: ContinuousClock.Instant) -> Bool {
            retryAfter[operation].map { now >= $0 } ?? true
        }

        mutating func recordSuccess(_ operation: Health.Operation) {
            failures[operation] = nil
            retryAfter[operation] = nil
        }

        /// Records a failure and schedules the next attempt after `interval` doubled per failure in
        /// a row, at most five minutes.
        mutating func recordFailure(_ failure: Health.Failure, interval: Duration, at now: ContinuousClock.Instant) {
            let count = (failures[failure.operation] ?? 0) + 1
            failures[failure.operation] = count
            lastFailure = failure
            let longest = Duration.seconds(300)
            let backoff = min(interval, longest) * (1 << min(count - 1, 16))
            retryAfter[failure.operation] = now + min(backoff, longest)
        }
    }
}
