import Logging
import TokenKit

/// Sends TokenKit's audit events to the server's log. Events never hold secrets.
struct LoggingAuditSink: TokenAuditSink {
    let logger: Logger

    func record(_ event: TokenAuditEvent) {
        let level: Logger.Level = event.kind == .validationFailed ? .notice : .info
        logger.log(level: level, "\(event)")
    }
}
