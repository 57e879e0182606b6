import PostgresNIO
import TokenKit

extension PostgresTokenStore {
    /// How a ``PostgresTokenStore`` caches, how stale it may be, and where its tables are.
    public struct Configuration: Sendable {
        /// The PostgreSQL schema that holds TokenKit's tables: lowercase letters, digits and `_`,
        /// at most 40 characters. The schema must exist; `public` by default.
        public var schema: String

        /// How long a change committed by any instance may go unnoticed by this one: the bound of
        /// the staleness contract. One second by default; at least 10 milliseconds.
        ///
        /// The store validates from memory only while its change feed has proved, within this
        /// bound, that it has seen every committed change; otherwise each validation asks the
        /// database. Heartbeats go out four times per bound (at most once a second).
        public var maximumStaleness: Duration

        /// The most records kept in memory for validation; 0 turns the cache off, so that every
        /// validation asks the database. 100,000 by default.
        ///
        /// Size it to the tokens in use at once: an entry holds a whole record (a few hundred
        /// bytes, more with many scopes or networks), and the oldest kept is forgotten first.
        public var cacheCapacity: Int

        /// The most any database call may take, waiting for a connection included, before it
        /// fails with ``TokenKit/TokenKitError/Code/storageFailure``. Five seconds by default.
        public var queryTimeout: Duration

        /// Runs inside ``PostgresTokenStore/rotate(owner:name:successor:revokingPreviousAt:)``'s
        /// transaction between its two writes: tests break the connection there.
        var afterFirstWriteOfRotation: (@Sendable (PostgresConnection) async throws -> Void)?

        /// A configuration; every argument has its documented default.
        public init(
            schema: String = "public",
            maximumStaleness: Duration = .seconds(1),
            cacheCapacity: Int = 100_000,
            queryTimeout: Duration = .seconds(5)
        ) {
            self.schema = schema
            self.maximumStaleness = maximumStaleness
            self.cacheCapacity = cacheCapacity
            self.queryTimeout = queryTimeout
        }

        /// Checks every value.
        func check() throws(TokenKitError) {
            guard maximumStaleness >= .milliseconds(10), maximumStaleness <= .seconds(3600) else {
                throw TokenKitError(
                    .invalidConfiguration,
                    "maximumStaleness must lie between 10 milliseconds and one hour; it is \(maximumStaleness)."
                )
            }
            guard (0...100_000_000).contains(cacheCapacity) else {
                throw TokenKitError(
                    .invalidConfiguration,
                    "cacheCapacity must lie between 0 and 100,000,000; it is \(cacheCapacity)."
                )
            }
            guard queryTimeout >= .milliseconds(10), queryTimeout <= .seconds(3600) else {
                throw TokenKitError(
                    .invalidConfiguration,
                    "queryTimeout must lie between 10 milliseconds and one hour; it is \(queryTimeout)."
                )
            }
        }
    }
}
