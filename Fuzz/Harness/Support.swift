// Helpers shared by the targets: a reader that turns fuzz bytes into values, value generators
// biased towards collisions (few owners, names, ids and digests), and the per-process directory
// the store targets write their files in.

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads values from the fuzz input; past its end every read gives zeros, so generators always
/// terminate. Loops must check ``isAtEnd``.
struct FuzzInput {
    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset >= bytes.count }
    var remaining: [UInt8] { offset < bytes.count ? Array(bytes[offset...]) : [] }

    mutating func u8() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() -> UInt16 { UInt16(u8()) | UInt16(u8()) << 8 }
    mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }
    mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }
    mutating func bool() -> Bool { u8() & 1 == 1 }

    /// Up to `count` bytes (fewer at the end of the input).
    mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, offset + count)
        guard offset < end else { return [] }
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    /// A string of up to `maximum` bytes, as the input spells them (repaired to valid UTF-8).
    mutating func text(maximum: Int) -> String {
        let count = Int(u8()) % (maximum + 1)
        return String(decoding: take(count), as: UTF8.self)
    }

    /// One of `pool` most of the time (so values collide), otherwise fuzzed text.
    mutating func pick(_ pool: [String], maximum: Int) -> String {
        let choice = u8()
        return choice < 224 ? pool[Int(choice) % pool.count] : text(maximum: maximum)
    }
}

/// A deterministic generator for TokenFormat.generate(using:).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum FuzzValues {
    static let owners = ["alice", "bob", "carol", "root", "a", "ü", "x\u{202E}y", "dave-2"]
    static let names = ["ci", "deploy", "backup", "n-1", "a_b", "x", "deploy2", "Z"]
    static let scopes = ["tokens:read", "tokens:write", "dns:read", "a", "x.y-z_:", "ssl"]

    /// A fixed "now" for the store targets: 2030-01-01T00:00:00Z, a whole microsecond.
    static let now = Date(timeIntervalSince1970: 1_893_456_000)

    /// Eight well-formed secrets and their SHA-256 digests: records may carry these digests, so
    /// that validating a secret finds them.
    static let secrets: [String] = {
        var generator = SplitMix64(state: 0x746F_6B65_6E6B_6974)
        return (0..<8).map { _ in TokenFormat.default.generate(using: &generator) }
    }()
    static let digests: [TokenDigest] = secrets.map { SHA256Hasher().digest(of: $0) }

    static let hasherIdentities = [
        SHA256Hasher().identity,
        TokenHasherIdentity(algorithm: "sha256", keyFingerprint: "0000000000000000"),
        TokenHasherIdentity(algorithm: "hmac-sha256", keyFingerprint: "0123456789abcdef"),
    ]
}

extension FuzzInput {
    mutating func owner() -> String { pick(FuzzValues.owners, maximum: 40) }
    mutating func name() -> String { pick(FuzzValues.names, maximum: 60) }

    mutating func scopes() -> Set<String> {
        var scopes: Set<String> = []
        for _ in 0..<(u8() % 4) { scopes.insert(pick(FuzzValues.scopes, maximum: 70)) }
        return scopes
    }

    /// A valid network: the fuzzed prefix when the address fits it, else the whole address.
    mutating func network() -> IPNetwork {
        let isV4 = bool()
        let prefix = Int(u8())
        var address =
            isV4
            ? IPAddress(family: .ipv4, high: 0, low: UInt64(u32()))
            : IPAddress(family: .ipv6, high: u64(), low: u64())
        // Parsing keeps an IPv4-mapped IPv6 address as the IPv4 one, and the store rules refuse
        // the mapped form (log entries must round-trip), so make what parsing would.
        if address.isIPv4MappedIPv6 { address = IPAddress(family: .ipv4, high: 0, low: address.low & 0xffff_ffff) }
        let bits = address.family == .ipv4 ? 32 : 128
        if let network = try? IPNetwork(address: address, prefixLength: prefix % (bits + 1)) { return network }
        // A whole address always is a network.
        return try! IPNetwork(address: address, prefixLength: bits)
    }

    mutating func networks() -> [IPNetwork] {
        (0..<(u8() % 3)).map { _ in network() }
    }

    /// An id from a pool of eight most of the time, so that records collide.
    mutating func id() -> TokenID {
        let choice = u8()
        return choice < 192 ? TokenID(high: UInt64(choice % 8), low: 0x5eed) : TokenID(high: u64(), low: u64())
    }

    /// The digest of one of the known secrets most of the time, otherwise 32 fuzzed bytes.
    mutating func digest() -> TokenDigest {
        let choice = u8()
        return choice < 192
            ? FuzzValues.digests[Int(choice) % FuzzValues.digests.count] : TokenDigest(u64(), u64(), u64(), u64())
    }

    /// A finite date: around ``FuzzValues/now``, storable, at the edges of the range, or any
    /// finite bit pattern (which stores refuse, but a log may hold).
    mutating func date() -> Date {
        let now = FuzzValues.now.timeIntervalSinceReferenceDate
        switch u8() % 8 {
        case 0: return FuzzValues.now
        case 1: return Date(timeIntervalSinceReferenceDate: now + Double(Int16(bitPattern: u16())))
        case 2: return Date(timeIntervalSinceReferenceDate: now - Double(u16()) * 86_400)
        case 3:
            let micros = Int64(u64() % 253_402_300_800_000_000)
            return (try? TokenStoreRules.date(microsecondsSince1970: micros)) ?? FuzzValues.now
        case 4:
            let raw = Double(bitPattern: u64())
            return raw.isFinite ? Date(timeIntervalSinceReferenceDate: raw) : FuzzValues.now
        case 5: return TokenStoreRules.dateRange.upperBound
        case 6: return TokenStoreRules.dateRange.lowerBound
        default: return Date(timeIntervalSinceReferenceDate: now + Double(u16()) / 1e9)
        }
    }

    mutating func optionalDate() -> Date? { bool() ? date() : nil }

    mutating func hasherIdentity() -> TokenHasherIdentity {
        let choice = u8()
        if choice < 224 { return FuzzValues.hasherIdentities[Int(choice) % FuzzValues.hasherIdentities.count] }
        return TokenHasherIdentity(algorithm: text(maximum: 70), keyFingerprint: text(maximum: 20))
    }

    mutating func record() -> TokenRecord {
        let id = id()
        let lineage: TokenID? = u8() < 32 ? self.id() : nil
        return TokenRecord(
            id: id,
            owner: owner(),
            name: name(),
            createdAt: date(),
            expiresAt: optionalDate(),
            scopes: scopes(),
            allowedNetworks: networks(),
            lastUsedAt: optionalDate(),
            revokedAt: optionalDate(),
            disabledAt: optionalDate(),
            digest: digest(),
            lineageID: lineage
        )
    }
}

/// The directory the store targets write in: one per process, emptied after every input.
enum FuzzFiles {
    nonisolated(unsafe) private(set) static var directory = ""

    static var storePath: String { directory + "/fuzz.tkstore" }

    static func setUp() {
        let environment = ProcessInfo.processInfo.environment
        let parent = environment["TOKENKIT_FUZZ_TMPDIR"] ?? environment["TMPDIR"] ?? "/tmp"
        try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        var template = Array("\(parent)/tokenkit-fuzz-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            printError("Cannot create a temporary directory under \(parent)\n")
            exit(2)
        }
        directory = String(cString: made)
        atexit { FuzzFiles.removeAll(andDirectory: true) }
    }

    /// Removes every file the last input left (store, lock, damaged copies, temporaries), and the
    /// shared memory page of each store: a page outlives its files until the machine restarts,
    /// and a fuzz run opens hundreds of stores a second.
    static func removeAll(andDirectory: Bool = false) {
        guard !directory.isEmpty else { return }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let path = directory + "/" + name
            if name.hasSuffix(".lock"), let status = POSIXFile.status(atPath: path) {
                shm_unlink(SharedPage.name(for: status))
            }
            unlink(path)
        }
        if andDirectory { rmdir(directory) }
    }

    /// Writes `bytes` as a private file, as a store file is.
    static func write(_ bytes: [UInt8], to path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { fuzzFailure("harness: cannot create \(path): errno \(errno)") }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { posixWrite(descriptor, $0.baseAddress! + written, $0.count - written) }
            guard result > 0 else { fuzzFailure("harness: cannot write \(path): errno \(errno)") }
            written += result
        }
        keepCopy(of: bytes)
    }

    /// The bytes of the file at `path`, or `nil` when it cannot be read. (POSIX calls: Foundation's
    /// `Data(contentsOf:)` leaks a buffer on empty files, which LeakSanitizer reports.)
    static func read(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { posixRead(descriptor, $0.baseAddress!, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
        }
    }

    /// With TOKENKIT_FUZZ_KEEP_FILES=<dir>, keeps the last store file written (to turn a crash
    /// into a regression test that opens the same file).
    private static func keepCopy(of bytes: [UInt8]) {
        guard let keep = ProcessInfo.processInfo.environment["TOKENKIT_FUZZ_KEEP_FILES"] else { return }
        try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
        let count = (try? FileManager.default.contentsOfDirectory(atPath: keep).count) ?? 0
        try? Data(bytes).write(to: URL(fileURLWithPath: "\(keep)/store-\(count).tkstore"))
    }
}

#if canImport(Glibc)
private let posixWrite = Glibc.write
private let posixRead = Glibc.read
#elseif canImport(Darwin)
private let posixWrite = Darwin.write
private let posixRead = Darwin.read
#endif

/// With TOKENKIT_FUZZ_VERBOSE=1, the store targets tell each step and each error thrown: for
/// reading what a saved input does.
let fuzzVerbose = ProcessInfo.processInfo.environment["TOKENKIT_FUZZ_VERBOSE"] == "1"

func trace(_ message: @autoclosure () -> String) {
    if fuzzVerbose { printError("fuzz: \(message())\n") }
}

/// Fails the run unless `error` is a TokenKitError: the only errors TokenKit's API may throw.
func expectTokenKitError(_ error: any Error, _ context: String) {
    trace("\(context) threw \(error)")
    guard error is TokenKitError else {
        fuzzFailure("\(context) threw \(type(of: error)), not TokenKitError: \(error)")
    }
}
