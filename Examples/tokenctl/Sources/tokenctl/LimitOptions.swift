import ArgumentParser
import Foundation
import TokenKit

/// The options that set a token's limits — expiry, scopes, allowed networks — as `create` sets
/// them and `update` changes them.
struct LimitOptions: ParsableArguments {
    @Option(help: .init("Expire at DATE: 2027-01-31, 2027-01-31T23:59:59Z or Unix seconds.", valueName: "date"))
    var expiresAt: String?
    @Option(help: .init("Expire after DURATION from now: 90d, 12h, 30m.", valueName: "duration")) var expiresIn: String?
    @Flag(help: "Never expire (not recommended).") var noExpiry = false
    @Option(help: "A scope the token grants; repeat for more.") var scope: [String] = []
    @Option(help: .init("An address or CIDR range the token may be used from; repeat for more.", valueName: "cidr"))
    var allowIp: [String] = []

    func validate() throws {
        let chosen = [expiresAt != nil, expiresIn != nil, noExpiry].filter { $0 }.count
        guard chosen <= 1 else {
            throw ValidationError("Give at most one of --expires-at, --expires-in and --no-expiry.")
        }
    }

    /// Whether no option was given.
    var isEmpty: Bool {
        expiresAt == nil && expiresIn == nil && !noExpiry && scope.isEmpty && allowIp.isEmpty
    }

    /// The expiry asked for, or `nil` when no expiry option was given.
    func expiry() throws -> TokenExpiry? {
        if let expiresAt { return .at(try Arguments.date(expiresAt)) }
        if let expiresIn { return .after(try Arguments.duration(expiresIn)) }
        return noExpiry ? .never : nil
    }

    /// The scopes given, or `nil` when there were none.
    var scopes: Set<String>? {
        scope.isEmpty ? nil : Set(scope)
    }

    /// The allowed networks given, or `nil` when there were none.
    func networks() throws -> [IPNetwork]? {
        allowIp.isEmpty ? nil : try allowIp.map { text throws(TokenKitError) in try IPNetwork(parsing: text) }
    }

    /// Warns on standard error when `--no-expiry` was given.
    func warnIfNeverExpiring() {
        if noExpiry {
            Output.error("Warning: this API token will not expire. cPanel strongly recommends an expiration date.")
        }
    }
}
