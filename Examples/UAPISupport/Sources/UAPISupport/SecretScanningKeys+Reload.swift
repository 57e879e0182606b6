import Logging
import TokenKit
import TokenKitServerSupport

extension SecretScanningKeys {
    /// Reads the keys again from their file, as both example servers do on SIGHUP, and logs the
    /// outcome: the key identifiers now in use, or why the file did not read (the keys in use stay).
    public func reload(reportingTo logger: Logger) {
        do throws(TokenKitError) {
            try reload()
            logger.info(
                "secret_scanning.keys_reloaded",
                metadata: ["key_identifiers": "\(LogText.escaped(identifiers.sorted().joined(separator: ",")))"]
            )
        } catch {
            logger.error("secret_scanning.keys_reload_failed", metadata: ["error": "\(LogText.escaped(error.message))"])
        }
    }
}
