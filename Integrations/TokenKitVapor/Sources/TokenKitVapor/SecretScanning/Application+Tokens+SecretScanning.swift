import TokenKitServerSupport
import Vapor

extension Application.Tokens {
    /// Mounts GitHub's secret-scanning partner endpoint on the application for ``manager``:
    /// `POST /secret-scanning/github` by default, so that a token leaked into a public repository
    /// is revoked as soon as GitHub finds it.
    ///
    /// ```swift
    /// try app.tokens.use(.file(path: "tokens.tkstore"))
    /// // curl https://api.github.com/meta/public_keys/secret_scanning > github-keys.json
    /// let keys = try SecretScanningKeys(path: "github-keys.json")
    /// app.tokens.registerSecretScanning(keys: keys)  // keys.reload() after GitHub rotates them
    /// ```
    ///
    /// The route takes no token — GitHub signs its reports — and is registered on the application's
    /// routes, outside any group you guard. A signed report revokes this server's tokens among its
    /// matches at once (the next request with one gets 401, in every process sharing the store)
    /// and is answered with GitHub's verdicts; a bad signature or an unknown key is 401 with
    /// nothing revoked, malformed JSON 400, a body over 1 MiB 413 (``SecretScanningController``
    /// lists the answers). Refusals are logged to `app.logger`, revocations audited as
    /// `token.leaked`; no secret reaches the log.
    ///
    /// For another body limit or maximum of matches, or to mount it on a group, register a
    /// ``SecretScanningController`` with a `SecretScanningEndpoint` of your own instead.
    ///
    /// - Parameters:
    ///   - keys: GitHub's public keys, which every report's signature is checked against. Reload
    ///     them (`keys.reload()`) when GitHub rotates its keys; the route sees the new ones at once.
    ///   - path: Where GitHub posts. Default: `/secret-scanning/github`.
    /// - Precondition: ``use(_:configuration:options:)`` was called: the route revokes with the
    ///   manager configured then.
    public func registerSecretScanning(
        keys: SecretScanningKeys,
        path: [PathComponent] = SecretScanningController.defaultPath
    ) {
        let endpoint = SecretScanningEndpoint(manager: manager, keys: keys, logger: application.logger)
        SecretScanningController(endpoint: endpoint, path: path).boot(routes: application.routes)
    }
}
