import TokenKit

/// Several audit sinks as one: each event goes to every sink, in order.
///
/// ```swift
/// let sink = TokenAuditSinks([TokenAuditLogger(logger: logger), metrics])
/// let manager = TokenManager(store: store, configuration: .init(auditSink: sink))
/// ```
public struct TokenAuditSinks: TokenAuditSink {
    /// The sinks.
    public let sinks: [any TokenAuditSink]

    /// Creates the group.
    public init(_ sinks: [any TokenAuditSink]) {
        self.sinks = sinks
    }

    /// Hands `event` to every sink.
    public func record(_ event: TokenAuditEvent) {
        for sink in sinks { sink.record(event) }
    }
}
