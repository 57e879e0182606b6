import ArgumentParser
import Foundation
import TokenKit

/// `--store PATH`, falling back to the `TOKENKIT_STORE` environment variable.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The token store file (default: $TOKENKIT_STORE).")
    var store: String?

    /// A manager over the store, which is created if it does not exist.
    func manager() throws -> TokenManager {
        guard let path = store ?? ProcessInfo.processInfo.environment["TOKENKIT_STORE"], !path.isEmpty else {
            throw CommandFailure(message: "no token store given; pass --store PATH or set TOKENKIT_STORE.")
        }
        return TokenManager(store: try FileTokenStore(path: path))
    }
}
