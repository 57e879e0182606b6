import Foundation
import PostgresNIO
import TokenKit

/// A `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` URL, as command lines and the
/// `TOKENKIT_POSTGRES_URL` environment variable give it, turned into a client configuration.
///
/// ```swift
/// let url = try PostgresURL(parsing: "postgres://app:secret@db.internal:5432/app")
/// let client = PostgresClient(configuration: url.clientConfiguration)
/// ```
///
/// `postgresql://` works too. Percent-escapes in the user and password are decoded. The query
/// `?sslmode=require` requires TLS and `?sslmode=prefer` uses it when the server offers it;
/// without it, or with `sslmode=disable`, connections are not encrypted — fine on loopback or a
/// private network, not across the internet.
public struct PostgresURL: Sendable, CustomStringConvertible {
    /// How to use TLS.
    public enum TLSMode: String, Sendable {
        /// Never.
        case disable
        /// When the server offers it.
        case prefer
        /// Always; fail otherwise.
        case require
    }

    /// The server's host name or address.
    public let host: String
    /// The server's port; 5432 when the URL names none.
    public let port: Int
    /// The user to connect as.
    public let username: String
    /// The user's password, if any.
    public let password: String?
    /// The database.
    public let database: String
    /// How to use TLS.
    public let tls: TLSMode

    /// Parses `text`.
    ///
    /// - Throws: ``TokenKit/TokenKitError/Code/invalidConfiguration`` naming what is wrong; the
    ///   message never repeats the password.
    public init(parsing text: String) throws(TokenKitError) {
        func invalid(_ reason: String) -> TokenKitError {
            TokenKitError(
                .invalidConfiguration,
                "The PostgreSQL URL is not postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE: \(reason)."
            )
        }
        guard let components = URLComponents(string: text) else { throw invalid("it does not parse as a URL") }
        guard components.scheme == "postgres" || components.scheme == "postgresql" else {
            throw invalid("the scheme must be postgres or postgresql")
        }
        guard let host = components.host, !host.isEmpty else { throw invalid("it names no host") }
        guard let user = components.user?.removingPercentEncoding, !user.isEmpty else {
            throw invalid("it names no user")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw invalid("it names no database") }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw invalid("the port must be 1 to 65535") }
        var tls = TLSMode.disable
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode", let value = item.value, let mode = TLSMode(rawValue: value) else {
                throw invalid("the only option understood is sslmode=disable, prefer or require")
            }
            tls = mode
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = port
        self.username = user
        self.password = components.password?.removingPercentEncoding
        self.database = database
        self.tls = tls
    }

    /// The configuration of a `PostgresClient` for this URL.
    public var clientConfiguration: PostgresClient.Configuration {
        let tlsConfiguration: PostgresClient.Configuration.TLS =
            switch tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        return PostgresClient.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: tlsConfiguration
        )
    }

    /// The URL with the password left out, for logs.
    public var description: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }
}
