import Synchronization
import TokenKitServerSupport
import UAPISupport
import UnixSignals
import Vapor

/// Reads GitHub's secret-scanning keys again from their file on every SIGHUP, from the moment the
/// application boots until it shuts down: after GitHub rotates its keys, fetch the document again
/// and `kill -HUP` the server. A file that does not read keeps the keys in use, and says why in the
/// log.
final class SecretScanningKeysReloader: LifecycleHandler {
    /// The keys the endpoint checks signatures with.
    private let keys: SecretScanningKeys
    /// SIGHUP, trapped before the application starts so that an early one does not end the process.
    private let hangups: UnixSignalsSequence
    /// Where reloads are reported.
    private let logger: Logger

    /// The task waiting for SIGHUPs, from boot until shutdown.
    ///
    /// Vapor's lifecycle has no scope to run a task group in (as `TokenManagerLifecycleHandler`
    /// explains), so the wait needs a task of its own. This handler owns it (the only reference is
    /// here); shutdown cancels it, which ends the signal sequence, and waits for it, so no reload is
    /// left half-done when the application goes on shutting down.
    private let running = Mutex<Task<Void, Never>?>(nil)

    init(keys: SecretScanningKeys, hangups: UnixSignalsSequence, logger: Logger) {
        self.keys = keys
        self.hangups = hangups
        self.logger = logger
    }

    /// Starts waiting for SIGHUPs. Does nothing if it already waits.
    func didBoot(_ application: Application) throws {
        running.withLock { task in
            guard task == nil else { return }
            task = Task { [keys, hangups, logger] in
                for await _ in hangups {
                    keys.reload(reportingTo: logger)
                }
            }
        }
    }

    /// Stops waiting for SIGHUPs, and waits until a reload in progress has finished.
    func shutdownAsync(_ application: Application) async {
        guard let task = running.withLock({ $0.take() }) else { return }
        task.cancel()
        await task.value
    }

    /// Stops waiting for SIGHUPs, without waiting: for the synchronous `shutdown()`.
    func shutdown(_ application: Application) {
        running.withLock { $0.take() }?.cancel()
    }
}
