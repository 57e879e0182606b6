import TokenKit
import Vapor

extension Application.Tokens {
    /// Where an application's tokens are stored: in memory, in a file, or in any
    /// ``TokenKit/TokenStore``. Pass one to ``Vapor/Application/Tokens/use(_:configuration:options:)``.
    public struct Provider: Sendable {
        /// Opens the store; called once, by `use`.
        let makeStore: @Sendable () throws(TokenKitError) -> any TokenStore

        /// A provider that opens its store with `makeStore`.
        ///
        /// - Parameter makeStore: Opens the store; called once, when the provider is used.
        public init(_ makeStore: @escaping @Sendable () throws(TokenKitError) -> any TokenStore) {
            self.makeStore = makeStore
        }

        /// Tokens in memory, lost when the process ends: for tests and demos.
        public static var memory: Provider {
            Provider { InMemoryTokenStore() }
        }

        /// Tokens in a ``TokenKit/FileTokenStore`` at `path`, created if missing: durable, crash-safe,
        /// and shared with other processes (such as `tokenctl`) that open the same file.
        ///
        /// - Parameters:
        ///   - path: The store file's path.
        ///   - options: The file store's options, such as its lock timeout or recovery mode.
        public static func file(path: String, options: FileTokenStore.Options = FileTokenStore.Options()) -> Provider {
            Provider { () throws(TokenKitError) in try FileTokenStore(path: path, options: options) }
        }

        /// Tokens in a store you made, such as one backed by your database.
        ///
        /// - Parameter store: The store; it should pass `TokenStoreConformance` (in `TokenKitTesting`).
        public static func store(_ store: any TokenStore) -> Provider {
            Provider { store }
        }
    }
}
