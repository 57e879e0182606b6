import Logging
import Synchronization
import TokenKit

/// Writes TokenKit's audit events to a swift-log `Logger`, one line each, with structured metadata
/// (`token.kind`, `token.owner`, `token.id`, `token.name`, `token.previous_name`,
/// `token.previous_id`, `token.reason`, `token.detail`, `client.address`).
///
/// - **Never a secret.** Events hold ids, names and owners only, and every value passes through
///   ``TokenKit/LogText/escaped(_:)``, so a name cannot break the line or hide text with a
///   right-to-left override.
/// - **No write storms.** A flood of bad tokens would write a line per request. Identical failure
///   lines (same reason, client address and claimed owner) are written at most
///   `maximumRepeatedFailuresPerSecond` times a second, and all failure lines at most
///   `maximumFailuresPerSecond`; what was held back is written as one `token.validation_failed.suppressed`
///   line per kind of failure, with a `count`, with the first event after that second — or by
///   ``flush()``, which servers call at shutdown.
///
/// Failures are logged at `notice`, background failures at `error`, everything else at `info`.
public struct TokenAuditLogger: TokenAuditSink {
    private let logger: Logger
    private let limiter: FailureLineLimiter

    /// Creates the sink.
    ///
    /// - Parameters:
    ///   - logger: Where lines go.
    ///   - maximumRepeatedFailuresPerSecond: Identical failure lines written per second. Default: 5.
    ///   - maximumFailuresPerSecond: Failure lines of every kind written per second. Default: 100.
    public init(logger: Logger, maximumRepeatedFailuresPerSecond: Int = 5, maximumFailuresPerSecond: Int = 100) {
        self.logger = logger
        self.limiter = FailureLineLimiter(
            perKind: max(1, maximumRepeatedFailuresPerSecond),
            total: max(1, maximumFailuresPerSecond)
        )
    }

    /// Logs `event`, unless it is a failure line over the limits. Counts held back in a second
    /// that has ended are written first.
    public func record(_ event: TokenAuditEvent) {
        let now = ContinuousClock.now
        writeSummaries(limiter.endWindowIfOver(at: now))
        guard event.kind == .validationFailed else {
            logger.log(
                level: event.kind == .backgroundFailure ? .error : .info,
                "\(event.kind)",
                metadata: metadata(of: event)
            )
            return
        }
        if limiter.admit(FailureLineLimiter.Key(event)) {
            logger.notice("\(event.kind)", metadata: metadata(of: event))
        }
    }

    /// Writes the counts of failure lines held back so far, now: call it at shutdown, so that the
    /// last second's count is not lost.
    public func flush() {
        writeSummaries(limiter.endWindow(at: .now))
    }

    private func writeSummaries(_ summaries: [(key: FailureLineLimiter.Key, count: Int)]) {
        for summary in summaries {
            var metadata: Logger.Metadata = [
                "token.kind": "\(TokenAuditEvent.Kind.validationFailed)",
                "count": "\(summary.count)",
            ]
            if let reason = summary.key.reason { metadata["token.reason"] = "\(reason)" }
            if let owner = summary.key.owner { metadata["token.owner"] = "\(LogText.escaped(owner))" }
            if let address = summary.key.address { metadata["client.address"] = "\(address)" }
            logger.notice("token.validation_failed.suppressed", metadata: metadata)
        }
    }

    private func metadata(of event: TokenAuditEvent) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["token.kind": "\(event.kind)"]
        func add(_ key: String, _ value: (some CustomStringConvertible)?) {
            if let value { metadata[key] = "\(LogText.escaped(value.description))" }
        }
        add("token.owner", event.owner)
        add("token.id", event.tokenID)
        add("token.name", event.tokenName)
        add("token.previous_name", event.previousName)
        add("token.previous_id", event.previousTokenID)
        add("token.reason", event.rejection)
        add("token.detail", event.detail)
        add("client.address", event.address)
        return metadata
    }
}

/// Counts failure lines in one-second windows and decides which to write.
final class FailureLineLimiter: Sendable {
    /// What makes two failure lines identical.
    struct Key: Hashable, Sendable {
        var reason: RejectionReason?
        var address: IPAddress?
        var owner: String?

        init(_ event: TokenAuditEvent) {
            reason = event.rejection
            address = event.address
            // A claimed owner is the client's text: keep the key (and the summary line) short.
            owner = event.owner.map { String($0.prefix(64)) }
        }

        init(reason: RejectionReason?) {
            self.reason = reason
            address = nil
            owner = nil
        }
    }

    private struct Window {
        var start: ContinuousClock.Instant
        var written: [Key: Int] = [:]
        var suppressed: [Key: Int] = [:]
        var total = 0
    }

    private let perKind: Int
    private let total: Int
    private let window: Mutex<Window>

    init(perKind: Int, total: Int) {
        self.perKind = perKind
        self.total = total
        self.window = Mutex(Window(start: .now))
    }

    /// Whether a failure line for `key` may be written in the current window; counts it either way.
    /// At most `total` kinds of failure are told apart in a window: past that, a client varying
    /// the claimed owner or its address is counted under the reason alone, so the summaries stay
    /// as few as the lines and the memory bounded.
    func admit(_ key: Key) -> Bool {
        window.withLock { window in
            let known = window.written[key] != nil || window.suppressed[key] != nil
            let key = known || window.written.count + window.suppressed.count < total ? key : Key(reason: key.reason)
            let written = window.written[key, default: 0]
            guard written < perKind, window.total < total else {
                window.suppressed[key, default: 0] += 1
                return false
            }
            window.written[key] = written + 1
            window.total += 1
            return true
        }
    }

    /// Starts a new window when the current one has lasted a second; returns the counts held back
    /// in the one that ended.
    func endWindowIfOver(at now: ContinuousClock.Instant) -> [(key: Key, count: Int)] {
        window.withLock { window in
            guard now - window.start >= .seconds(1) else { return [] }
            defer { window = Window(start: now) }
            return window.suppressed.map { ($0.key, $0.value) }
        }
    }

    /// Starts a new window now; returns the counts held back in the one that ended.
    func endWindow(at now: ContinuousClock.Instant) -> [(key: Key, count: Int)] {
        window.withLock { window in
            defer { window = Window(start: now) }
            return window.suppressed.map { ($0.key, $0.value) }
        }
    }
}
