/// Receives ``TokenAuditEvent``s from a ``TokenManager``.
///
/// The manager calls ``record(_:)`` synchronously, on the path of the operation (validation
/// included), so an implementation must return quickly: hand the event to a logger, a buffer or a
/// stream, and do slow work elsewhere.
///
/// ```swift
/// struct LoggingAuditSink: TokenAuditSink {
///     let logger: Logger
///     func record(_ event: TokenAuditEvent) { logger.info("\(event)") }
/// }
/// ```
public protocol TokenAuditSink: Sendable {
    /// Takes one event.
    func record(_ event: TokenAuditEvent)
}
