import Synchronization
import TokenKit
import TokenKitServerSupport
import Vapor

/// Runs a ``TokenKit/TokenManager``'s background work — last-used writes on their interval, store
/// maintenance such as compaction — from the moment the application boots until it shuts down,
/// and on shutdown waits until the last pending last-used times are written.
///
/// ``Vapor/Application/Tokens/use(_:configuration:options:)`` registers one for `app.tokens`; register
/// one yourself only for a manager you made:
///
/// ```swift
/// app.lifecycle.use(TokenManagerLifecycleHandler(manager: manager))
/// ```
///
/// Shut the application down with `try await app.asyncShutdown()`: the synchronous `shutdown()`
/// can only ask the background work to stop, not wait for its final write.
public final class TokenManagerLifecycleHandler: LifecycleHandler {
    /// The manager to run: one given, or `app.tokens.manager` as it is at boot.
    private let manager: TokenManager?

    /// The task running `TokenManager.run()`, from boot until shutdown.
    ///
    /// Vapor's lifecycle has no scope to run a task group in — `didBoot` returns before the
    /// application serves, and `shutdownAsync` is called later, from elsewhere — so the work needs
    /// a task of its own. It is kept structured in all but syntax: this handler owns it (the only
    /// reference is here), shutdown cancels it (which is how `run()` learns to stop) and then awaits
    /// it, so `run()`'s final write of pending last-used times has finished before the application
    /// and the process go on, and no error is lost. The only other tasks this package starts are
    /// the authenticators' (`EventLoop.makeFutureWithTask`, when a validation must await the
    /// store), each ended by the request's own future.
    private let running = Mutex<Task<Void, any Error>?>(nil)

    /// A handler for a manager you made.
    ///
    /// - Parameter manager: The manager whose background work runs with the application.
    public init(manager: TokenManager) {
        self.manager = manager
    }

    /// A handler for `app.tokens.manager`, looked up when the application boots.
    init() {
        self.manager = nil
    }

    /// Starts the manager's background work. Does nothing if it already runs.
    ///
    /// - Parameter application: The application that booted.
    public func didBoot(_ application: Application) throws {
        let manager = self.manager ?? application.tokens.manager
        running.withLock { task in
            guard task == nil else { return }
            task = Task { try await manager.run() }
        }
    }

    /// Stops the background work and waits until it has written what was pending.
    ///
    /// - Parameter application: The application shutting down.
    public func shutdownAsync(_ application: Application) async {
        guard let task = running.withLock({ $0.take() }) else { return }
        task.cancel()
        do {
            try await task.value
        } catch {
            application.logger.error(
                "TokenKit could not write pending last-used times at shutdown",
                metadata: ["error": "\(String(describing: error))"]
            )
        }
        // The last second's held-back failure counts, so that a flood before a restart is counted.
        if application.tokens.isConfigured { application.tokens.auditLogger?.flush() }
    }

    /// Asks the background work to stop, without waiting: for applications shut down with the
    /// synchronous `shutdown()`. Pending last-used times are written only if the process lives on
    /// long enough; use `asyncShutdown()` to be sure.
    ///
    /// - Parameter application: The application shutting down.
    public func shutdown(_ application: Application) {
        running.withLock { $0.take() }?.cancel()
    }
}
