import ServiceLifecycle
import TokenKit
import TokenKitServerSupport

/// Runs a ``TokenKit/TokenManager``'s background work as a swift-service-lifecycle service: it
/// writes last-used times on their interval and runs store maintenance for the server's life, and
/// on graceful shutdown (or cancellation) writes every last-used time still pending before it
/// returns.
///
/// Hand it to the Hummingbird application, which runs it beside the server:
///
/// ```swift
/// let app = Application(router: router, services: [TokenManagerService(manager)])
/// try await app.runService()
/// ```
///
/// or put it in your own `ServiceGroup` *before* the application: a group shuts its services down
/// in reverse order, so the server stops taking requests first and the uses of its last requests
/// are written too.
public struct TokenManagerService: Service, CustomStringConvertible {
    /// The manager whose background work runs.
    public let manager: TokenManager
    /// The audit logger whose held-back failure counts are written when the service stops.
    public let auditLogger: TokenAuditLogger?

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - manager: The manager whose background work runs.
    ///   - auditLogger: The manager's `TokenAuditLogger`, if it has one: its held-back failure
    ///     counts are written at shutdown rather than lost.
    public init(_ manager: TokenManager, auditLogger: TokenAuditLogger? = nil) {
        self.manager = manager
        self.auditLogger = auditLogger
    }

    /// Runs ``TokenKit/TokenManager/run()`` until graceful shutdown or cancellation, then drains.
    ///
    /// - Throws: The store's error if the final write of pending uses fails.
    public func run() async throws {
        let manager = manager
        defer { auditLogger?.flush() }
        try await cancelWhenGracefulShutdown { try await manager.run() }
    }

    /// `TokenManagerService`, as service-lifecycle names it in its logs.
    public var description: String { "TokenManagerService" }
}
