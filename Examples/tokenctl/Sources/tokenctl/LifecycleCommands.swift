import ArgumentParser
import Foundation
import TokenKit

struct Update: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Change a token's expiry, scopes or allowed addresses.",
        discussion: """
            --scope and --allow-ip replace the token's lists. A token it replaced by rotation, still in \
            its grace period, gets the same changes.
            """
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The account.") var user: String
    @Option(help: "The token to change.") var name: String
    @OptionGroup var limits: LimitOptions
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard !limits.isEmpty else {
            throw ValidationError(
                "Give at least one change: --expires-at, --expires-in, --no-expiry, --scope or --allow-ip."
            )
        }
    }

    func run() async throws {
        let expiry = try limits.expiry()
        let networks = try limits.networks()
        try await storeOptions.withManager { manager in
            let change = try await manager.update(
                owner: user,
                name: name,
                expiry: expiry,
                scopes: limits.scopes,
                allowedNetworks: networks
            )
            limits.warnIfNeverExpiring()
            Output.printChange(change, "updated", json: json, details: Output.limits(change.token))
        }
    }
}

struct Disable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Disable a token: it is kept and listed, but does not work until enabled again."
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The account.") var user: String
    @Option(help: "The token to disable.") var name: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await storeOptions.withManager { manager in
            Output.printChange(try await manager.disable(owner: user, name: name), "disabled", json: json)
        }
    }
}

struct Enable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Enable a disabled token again.")

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The account.") var user: String
    @Option(help: "The token to enable.") var name: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await storeOptions.withManager { manager in
            Output.printChange(try await manager.enable(owner: user, name: name), "enabled", json: json)
        }
    }
}

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete a token for good — active, disabled or expired; it stops working at once."
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The account.") var user: String
    @Option(help: "The token to delete.") var name: String
    @Flag(help: "Do not ask for confirmation (needed when standard input is not a terminal).") var yes = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        if !yes {
            try Confirmation.ask(
                "Delete the API token \"\(name)\" of \(user)? It stops working at once and cannot be restored.",
                action: "deleting",
                refusal: "nothing was deleted."
            )
        }
        try await storeOptions.withManager { manager in
            Output.printChange(try await manager.delete(owner: user, name: name), "deleted", json: json)
        }
    }
}

struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete for good the tokens of every user that expired or were revoked at least DURATION ago."
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: .init("How long expired and revoked tokens are kept: 90d, 12h, 0s.", valueName: "duration"))
    var olderThan: String
    @Flag(help: "Print JSON: the tokens deleted.") var json = false

    func run() async throws {
        let retention = try Arguments.duration(olderThan)
        try await storeOptions.withManager { manager in
            let purged = try await manager.purge(olderThan: retention)
            if json {
                let now = Date()
                Output.printJSON(purged.map { Output.owned($0, now: now) })
            } else {
                print(
                    "Deleted \(purged.count) API token\(purged.count == 1 ? "" : "s") "
                        + "that expired or were revoked at least \(olderThan) ago."
                )
            }
        }
    }
}

struct Compact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compact a file store now and write its index file, so that every command after opens it in "
            + "milliseconds.",
        discussion: "Servers compact by themselves as changes pile up; run this after a bulk import, or once after "
            + "upgrading TokenKit. A PostgreSQL database keeps its own indexes."
    )

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let path = try storeOptions.filePath(for: "compact")
        let store = try FileTokenStore(path: path)
        try await store.compact()
        let count = try store.count
        print("Compacted \(path): \(count) API token\(count == 1 ? "" : "s"), indexed in \(path).index.")
    }
}
