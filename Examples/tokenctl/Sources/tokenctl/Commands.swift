import ArgumentParser
import Foundation
import TokenKit

struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a token and print it once.",
        discussion: "Without --scope the token has full access; without --allow-ip it may be used from anywhere."
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The account the token acts for.") var user: String
    @Option(help: "The token's name: 1–50 of A-Z a-z 0-9 _ -.") var name: String
    @OptionGroup var limits: LimitOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let expiry = try limits.expiry() ?? .policyDefault
        let networks = try limits.networks() ?? []
        try await storeOptions.withManager { manager in
            let issued = try await manager.create(
                owner: user,
                name: name,
                expiry: expiry,
                scopes: limits.scopes ?? [],
                allowedNetworks: networks
            )
            limits.warnIfNeverExpiring()
            Output.printIssued(issued, json: json)
        }
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a user's tokens (never their secrets).")

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The account.") var user: String
    @Flag(help: "Include expired and revoked tokens.") var all = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await storeOptions.withManager { manager in
            let records = try await manager.list(
                owner: user,
                including: all ? TokenStatus.all : TokenStatus.current
            )
            let now = Date()
            if json {
                Output.printJSON(records.map { Output.listing($0, now: now) })
                return
            }
            if records.isEmpty {
                print("\(user) has no API tokens\(all ? "" : " that are active").")
                return
            }
            for record in records {
                let scopes = record.scopes.isEmpty ? "full access" : record.scopes.sorted().joined(separator: ",")
                print(
                    "\(record.name)  \(record.status(at: now))  created \(Output.text(record.createdAt))  "
                        + "expires \(Output.text(record.expiresAt))  last used \(Output.text(record.lastUsedAt))  \(scopes)"
                )
            }
        }
    }
}

struct Rename: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Give a token a new name.")

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The account.") var user: String
    @Option(help: "The token's current name.") var name: String
    @Option(help: "The new name.") var newName: String

    func run() async throws {
        try await storeOptions.withManager { manager in
            try await manager.rename(owner: user, name: name, to: newName)
            print("Renamed the API token \"\(name)\" to \"\(newName)\".")
        }
    }
}

struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Revoke a token, or all of a user's tokens; they stop working at once."
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The account.") var user: String
    @Option(help: "The token to revoke.") var name: String?
    @Flag(help: "Revoke all of the user's tokens.") var all = false
    @Flag(help: "Do not ask for confirmation (needed when standard input is not a terminal).") var yes = false

    func validate() throws {
        guard (name != nil) != all else { throw ValidationError("Give either --name NAME or --all.") }
    }

    func run() async throws {
        if !yes {
            let what = all ? "all API tokens of \(user)" : "the API token \"\(name!)\" of \(user)"
            try Confirmation.ask(
                "Revoke \(what)? It stops working at once.",
                action: "revoking",
                refusal: "nothing was revoked."
            )
        }
        try await storeOptions.withManager { manager in
            if all {
                let revoked = try await manager.revokeAll(owner: user)
                print("Revoked \(revoked.count) API token\(revoked.count == 1 ? "" : "s") of \(user).")
            } else {
                Output.printChange(try await manager.revoke(owner: user, name: name!), "revoked", json: false)
            }
        }
    }
}

struct Rotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue a new secret for a token; the old one works until the grace period ends."
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The account.") var user: String
    @Option(help: "The token to rotate.") var name: String
    @Option(help: "How long the old secret keeps working: 1h, 7d (default: 0, revoke at once).") var grace: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let grace = try grace.map(Arguments.duration) ?? .zero
        try await storeOptions.withManager { manager in
            let rotation = try await manager.rotate(owner: user, name: name, grace: grace)
            let validUntil = rotation.previousSecretValidUntil
            Output.printIssued(
                rotation.issued,
                json: json,
                extra: ["previous_valid_until": Output.unixSeconds(validUntil)]
            )
            if !json {
                let stillWorks = validUntil > rotation.issued.record.createdAt
                print(
                    "The previous secret \(stillWorks ? "works until \(Output.text(validUntil))" : "no longer works")."
                )
            }
        }
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a token: exit 0 when valid, 1 when rejected (the reason goes to standard error)."
    )

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The token.") var token: String
    @Option(help: "The user the token must belong to.") var user: String?
    @Option(help: "A scope the token must grant; repeat for more.") var scope: [String] = []
    @Option(help: "The client address to check against the token's allow-list.") var ip: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let address = try ip.map(Arguments.address)
        try await storeOptions.withManager { manager in
            let result = try await manager.validate(
                token,
                owner: user,
                requiring: Set(scope),
                from: address
            )
            switch result {
            case .valid(let record):
                if json {
                    Output.printJSON([
                        "valid": true, "user": record.owner, "name": record.name, "scopes": record.scopes.sorted(),
                    ])
                } else {
                    print("valid: user \(record.owner), token \"\(record.name)\"")
                }
            case .rejected(let reason):
                if json { Output.printJSON(["valid": false, "reason": reason.code]) }
                Output.error("rejected: \(reason)")
                throw ExitCode(1)
            }
        }
    }
}
