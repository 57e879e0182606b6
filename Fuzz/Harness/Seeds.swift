// The seed corpora in Fuzz/Corpus/<target>/, written by the harness itself so that they follow
// its input grammars:  TOKENKIT_FUZZ_WRITE_SEEDS=Fuzz/Corpus Fuzz/.build-fuzz/tokenkit-fuzz
// (Fuzz/run.sh --write-seeds). Store files hold random ids and secrets, so rewriting them
// changes their bytes, not what they cover.

import Foundation

/// Builds inputs in the byte grammar FuzzInput reads (little-endian).
private struct SeedWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ values: UInt8...) { bytes += values }
    mutating func u16(_ value: UInt16) { bytes += [UInt8(value & 0xff), UInt8(value >> 8)] }
    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { u8(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
    mutating func text(_ value: String) {
        u8(UInt8(value.utf8.count))
        bytes += value.utf8
    }
    /// A date `seconds` after FuzzValues.now (kind 1: a signed 16-bit offset).
    mutating func dateAfterNow(_ seconds: Int16) {
        u8(1)
        u16(UInt16(bitPattern: seconds))
    }
    mutating func none() { u8(0) }

    /// A put entry's record, in the order FuzzInput.record() reads it.
    mutating func record(
        id: UInt8,
        owner: UInt8,
        name: UInt8,
        expiresIn: Int16?,
        scopes: [UInt8] = [],
        ipv4Network: (UInt32, UInt8)? = nil,
        revokedIn: Int16? = nil,
        digest: UInt8
    ) {
        u8(id, 0xff, owner, name)  // id from the pool; no lineage; owner and name from the pools
        u8(0)  // created now
        if let expiresIn {
            u8(1)
            dateAfterNow(expiresIn)
        } else {
            none()
        }
        u8(UInt8(scopes.count))
        for scope in scopes { u8(scope) }
        if let (address, prefix) = ipv4Network {
            u8(1, 1, prefix)
            for shift in stride(from: 0, to: 32, by: 8) { u8(UInt8(truncatingIfNeeded: address >> UInt32(shift))) }
        } else {
            u8(0)
        }
        none()  // last used
        if let revokedIn {
            u8(1)
            dateAfterNow(revokedIn)
        } else {
            none()
        }
        none()  // disabled
        u8(digest)
    }
}

func writeSeeds(to directory: String) {
    @Sendable func save(_ target: String, _ name: String, _ bytes: [UInt8]) {
        let folder = "\(directory)/\(target)"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: "\(folder)/\(name)", contents: Data(bytes)) else {
            fuzzFailure("cannot write the seed \(folder)/\(name)")
        }
    }
    func save(_ target: String, _ name: String, _ text: String) { save(target, name, Array(text.utf8)) }

    let token = FuzzValues.secrets[0]
    save("hashing", "empty", [UInt8]())
    save("hashing", "token", token)
    save("hashing", "padding-boundary", [UInt8](repeating: 0x61, count: 56))
    save("hashing", "two-blocks", (0..<130).map { UInt8($0 & 0xff) })
    save("hashing", "index-page", (0..<4097).map { UInt8(($0 * 7 + 3) & 0xff) })
    save("format", "valid", token)
    save("format", "bad-checksum", String(token.dropLast()) + (token.last == "a" ? "b" : "a"))
    save("format", "short", "tk_abc")
    save("format", "other-prefix", "ghp_" + token.dropFirst(3))

    save("authorization", "bearer", "Bearer \(token)")
    save("authorization", "cpanel", "cpanel alice:\(token)")
    save("authorization", "whm", "  WHM\troot:\(token)  ")
    save("authorization", "missing-user", "cpanel :\(token)")
    save("authorization", "basic", "Basic YWxpY2U6cGFzcw==")

    save("network", "ipv4-cidr", "192.0.2.0/24\n192.0.2.77")
    save("network", "ipv6-cidr", "2001:db8::/32\n2001:db8:1::1")
    save("network", "mapped", "::ffff:192.0.2.0/120\n::ffff:192.0.2.9")
    save("network", "host-bits", "10.1.2.3/8\n10.1.2.3")
    save("network", "zone", "fe80::1%eth0\n0.0.0.0/0")

    var policies = SeedWriter()
    policies.u16(6)
    policies.bytes += Array("deploy".utf8)
    policies.u16(50)
    policies.text("_-.")
    policies.u16(5)
    policies.bytes += Array("alice".utf8)
    policies.u8(2)
    policies.text("tokens:read")
    policies.text("dns:read")
    for seconds in [0.0, 1e300, 8e9] { policies.u64(Double(seconds).bitPattern) }
    policies.u64(253_402_300_799_999_999)
    policies.u64(FuzzValues.now.timeIntervalSinceReferenceDate.bitPattern)  // now
    policies.u64(Double.infinity.bitPattern)  // .at(∞)
    policies.u64(UInt64(bitPattern: Int64.max))  // .after: seconds, attoseconds
    policies.u64(0)
    policies.u64(86_400)  // .after(.seconds(_:))
    policies.u8(0, 1)  // allowsNever false, a default lifetime
    policies.u64(86_400)
    policies.u64(0)
    policies.u8(1)  // and a maximum
    policies.u64(30 * 86_400)
    policies.u64(0)
    save("policies", "typical", policies.bytes)
    save("policies", "edges", [UInt8](repeating: 0xff, count: 120))

    // store-log: one group with two tokens and the hasher, a removal, then store operations.
    var log = SeedWriter()
    log.u8(0)  // configuration
    log.u8(0)  // put alice "ci", secret 0
    log.record(id: 0, owner: 0, name: 0, expiresIn: 3_600, scopes: [0], digest: 0)
    log.u8(0)  // put bob "deploy", secret 1, from 192.0.2.0/24
    log.record(id: 1, owner: 1, name: 1, expiresIn: nil, ipv4Network: (0xC000_0200, 24), digest: 1)
    log.u8(4, 0)  // hasher: SHA-256, the manager's
    log.u8(5)  // end of group 1
    log.u8(0)  // put carol "backup", revoked a minute ago
    log.record(id: 2, owner: 2, name: 2, expiresIn: 600, revokedIn: -60, digest: 2)
    log.u8(3, 1)  // remove id 1
    log.u8(0xff)  // end of log
    log.u8(1, 0, 0, 0)  // create alice "ci" with the default expiry: a duplicate name
    log.u8(0, 0)
    log.u8(12, 0, 0)  // validate secret 0 as alice
    log.u8(3, 0, 0, 6)  // rename alice ci → deploy2
    log.u8(8, 0, 6, 0, 3, 3, 0)  // rotate alice deploy2 to id 3, secret 3, grace until now
    log.u8(0)
    log.u8(2, 2, 2, 0)  // revoke carol backup now
    log.u8(0x8a, 0, 0x8b, 0, 4, 0)  // purge before now, concurrently with a use of id 4
    log.u8(12, 3, 0)  // validate secret 3 as alice
    save("store-log", "two-groups-then-writes", log.bytes)

    var torn = SeedWriter()
    torn.u8(0x0d)  // threshold 2, salvage, torn tail
    torn.u8(0)
    torn.record(id: 0, owner: 0, name: 0, expiresIn: 60, digest: 0)
    torn.u8(5, 0)
    torn.record(id: 0, owner: 0, name: 1, expiresIn: 60, digest: 0)
    torn.u8(0xff)
    torn.u8(12, 0, 0)
    save("store-log", "torn-tail", torn.bytes)

    var oldVersion = SeedWriter()
    oldVersion.u8(0x11)  // threshold 2, version 1 header
    oldVersion.u8(0)
    oldVersion.record(id: 5, owner: 3, name: 3, expiresIn: nil, digest: 5)
    oldVersion.u8(0xff, 13, 0, 12, 5, 3)  // bind the hasher, validate secret 5 as root
    save("store-log", "version-1", oldVersion.bytes)

    let (stored, revoked, unknown) = (FuzzValues.secrets[0], FuzzValues.secrets[2], FuzzValues.secrets[5])
    save(
        "leak-report",
        "github",
        """
        [{"token":"\(stored)","type":"tokenkit","url":"https://github.com/o/r/blob/main/.env","source":"content"},
         {"token":"\(unknown)","type":"tokenkit","url":"https://gist.github.com/x","source":"gist"},
         {"token":"\(revoked)","type":"tokenkit"},{"token":"\(stored)","type":"tokenkit","source":"npm"}]
        """
    )
    save("leak-report", "not-tokens", #"[{"token":"tk_short","type":"x"},{"token":"","type":""}]"#)
    save("leak-report", "wrong-shape", #"{"token":"tk_x","type":1}"#)

    // store-bytes: real files written by FileTokenStore.
    FuzzFiles.setUp()
    defer { FuzzFiles.removeAll(andDirectory: true) }
    // store-index: the fixture's own index file, its header page alone, and the same to reseal.
    let index = IndexFixture.shared.index
    save("store-index", "intact", [0] + index)
    save("store-index", "header-only", [0] + Array(index.prefix(IndexFileFormat.pageSize)))
    save("store-index", "forged", [1] + index)
    // validation: shape, scheme, secret, no change, a space, (a user, for shapes 5–7); then three
    // scheme bytes, a scope count and an address.
    save("validation", "no-header", [0])
    save("validation", "bearer-stored", [2, 0, 0, 255, 1, 0, 0, 0, 0, 1])
    save("validation", "cpanel-user", [5, 1, 1, 255, 1, 1, 0, 0, 0, 0, 1])
    save("validation", "allow-list-outside", [2, 0, 1, 255, 1, 0, 0, 0, 0, 2])
    save("validation", "expiring-soon", [2, 0, 4, 255, 1, 0, 0, 0, 0, 0])
    save("store-bytes", "empty-store", StoreFileFormat.Header.empty.encoded())
    runAsync {
        do {
            let store = try FileTokenStore(path: FuzzFiles.storePath, options: fuzzOptions())
            let manager = TokenManager(store: store, configuration: .init(clock: FuzzClock()))
            _ = try await manager.create(owner: "alice", name: "deploy", scopes: ["tokens:read"])
            _ = try await manager.create(
                owner: "bob",
                name: "ci",
                expiry: .never,
                allowedNetworks: [try IPNetwork(parsing: "2001:db8::/32"), try IPNetwork(parsing: "192.0.2.7")]
            )
            try await manager.rename(owner: "alice", name: "deploy", to: "deploy-2")
            _ = try await manager.rotate(owner: "alice", name: "deploy-2", grace: .seconds(3_600))
            try await manager.revoke(owner: "bob", name: "ci")
            save("store-bytes", "small-store", FuzzFiles.read(FuzzFiles.storePath) ?? [])
            try await store.compact()
            save("store-bytes", "compacted-store", FuzzFiles.read(FuzzFiles.storePath) ?? [])
        } catch {
            fuzzFailure("writing the store-bytes seeds failed: \(error)")
        }
    }
}
