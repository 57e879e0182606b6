import Logging
import ServiceLifecycle
import TokenKitServerSupport
import UAPISupport
import UnixSignals

/// Reads GitHub's secret-scanning keys again from their file on every SIGHUP, for the server's
/// life: after GitHub rotates its keys, fetch the document again and `kill -HUP` the server. A
/// file that does not read keeps the keys in use, and says why in the log.
struct SecretScanningKeysReloader: Service, CustomStringConvertible {
    /// The keys the endpoint checks signatures with.
    let keys: SecretScanningKeys
    /// SIGHUP, trapped before the server starts so that an early one does not end the process.
    let hangups: UnixSignalsSequence
    /// Where reloads are reported.
    let logger: Logger

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            keys.reload(reportingTo: logger)
        }
    }

    /// `SecretScanningKeysReloader`, as service-lifecycle names it in its logs.
    var description: String { "SecretScanningKeysReloader" }
}
