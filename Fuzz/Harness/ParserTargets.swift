// The parser targets: token format, Authorization header, IP addresses and networks.
// Besides "no crash, no hang", each checks properties the documentation promises.

import Foundation

// MARK: format

/// `TokenFormat.default.validate` on the raw bytes (contiguous and not), on the bytes as a String,
/// and a generated token with one byte changed, which its CRC-32 must catch.
func fuzzFormat(_ bytes: [UInt8]) {
    let format = TokenFormat.default
    let fromBytes = Result { () throws(TokenFormatError) in try format.validate(bytes: bytes) }
    // A collection without contiguous storage takes the copying path; it must agree.
    let fromLazy = Result { () throws(TokenFormatError) in try format.validate(bytes: bytes.lazy.map { $0 }) }
    if reason(fromBytes) != reason(fromLazy) {
        fuzzFailure("validate(bytes:) disagrees between contiguous and lazy collections")
    }
    let text = String(decoding: bytes, as: UTF8.self)
    let fromText = Result { () throws(TokenFormatError) in try format.validate(text) }
    if Array(text.utf8) == bytes, reason(fromText) != reason(fromBytes) {
        fuzzFailure("validate(_:) and validate(bytes:) disagree on valid UTF-8")
    }
    if case .success = fromBytes {
        guard bytes.count == format.length, bytes.starts(with: Array("tk_".utf8)) else {
            fuzzFailure("accepted \(bytes.count) bytes that are not a tk_ token of length \(format.length)")
        }
    }

    // A token of a format chosen by the input, generated, then changed in one byte.
    var input = FuzzInput(bytes)
    let prefix = String(decoding: input.take(Int(input.u8() % 18)), as: UTF8.self)
    let bits = 150 + Int(input.u16() % 900)
    guard let custom = try? TokenFormat(prefix: prefix, randomBits: bits) else { return }
    var generator = SplitMix64(state: input.u64())
    let token = custom.generate(using: &generator)
    do {
        try custom.validate(token)
    } catch {
        fuzzFailure("a generated token of prefix \(prefix), \(bits) bits fails validation: \(error)")
    }
    var changed = Array(token.utf8)
    let position = Int(input.u16()) % changed.count
    let replacement = input.u8()
    guard replacement != changed[position] else { return }
    changed[position] = replacement
    if (try? custom.validate(bytes: changed)) != nil {
        fuzzFailure("a token changed at byte \(position) still validates")
    }
}

private func reason(_ result: Result<Void, TokenFormatError>) -> TokenFormatError.Reason? {
    if case .failure(let error) = result { return error.reason }
    return nil
}

// MARK: authorization

/// `AuthorizationCredentials(parsing:)` on arbitrary text, checking what a parse promises.
func fuzzAuthorization(_ bytes: [UInt8]) {
    let header = String(decoding: bytes, as: UTF8.self)
    guard let credentials = try? AuthorizationCredentials(parsing: header) else { return }
    let token = credentials.token
    guard !token.isEmpty, !token.utf8.contains(where: { $0 == 0x20 || $0 == 0x09 }) else {
        fuzzFailure("parsed an empty token or one with white space")
    }
    switch credentials.scheme {
    case .bearer:
        guard credentials.user == nil else { fuzzFailure("a Bearer header produced a user") }
    case .cpanel, .whm:
        guard let user = credentials.user, !user.isEmpty else {
            fuzzFailure("a \(credentials.scheme) header lacks a user")
        }
    }
    guard header.utf8.count <= AuthorizationCredentials.maximumLength else {
        fuzzFailure("accepted a header over the maximum length")
    }
    // The description never shows a well-formed token (unless the user name repeats it).
    if (try? TokenFormat.default.validate(token)) != nil, credentials.user?.contains(token) != true,
        credentials.description.contains(token)
    {
        fuzzFailure("description shows the token")
    }
    // Parsing is stable: the canonical form parses to the same credentials.
    let canonical = "\(credentials.scheme.rawValue) " + (credentials.user.map { "\($0):" } ?? "") + token
    if canonical.utf8.count <= AuthorizationCredentials.maximumLength,
        (try? AuthorizationCredentials(parsing: canonical)) != credentials
    {
        fuzzFailure("the canonical form of parsed credentials parses differently")
    }
}

// MARK: network

/// `IPAddress(_:)`, `IPNetwork(parsing:)`, `IPNetwork(_:)` and `contains`. The input is one text,
/// or two separated by a newline (a network and an address).
func fuzzNetwork(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    let first = parts[0]
    let second = parts.count > 1 ? parts[1] : first

    for candidate in Set([text, first, second]) {
        if let address = IPAddress(candidate) {
            guard IPAddress(address.description) == address else {
                fuzzFailure("IPAddress \(address) does not round-trip through its description")
            }
        }
        let parsed = try? IPNetwork(parsing: candidate)
        guard IPNetwork(candidate) == parsed else { fuzzFailure("IPNetwork(_:) and IPNetwork(parsing:) disagree") }
        if let network = parsed {
            guard (try? IPNetwork(parsing: network.description)) == network else {
                fuzzFailure("IPNetwork \(network) does not round-trip through its description")
            }
            guard network.contains(network.address) else { fuzzFailure("\(network) does not contain its address") }
        }
    }

    // The same bytes as raw values: an address and prefix length (possibly out of range or with
    // host bits set, which init must refuse) and another address.
    var input = FuzzInput(bytes)
    let isV4 = input.bool()
    let prefixLength = Int(Int8(bitPattern: input.u8()))
    let raw =
        isV4
        ? IPAddress(family: .ipv4, high: 0, low: UInt64(input.u32()))
        : IPAddress(family: .ipv6, high: input.u64(), low: input.u64())
    let other =
        input.bool()
        ? IPAddress(family: .ipv4, high: 0, low: UInt64(input.u32()))
        : IPAddress(family: .ipv6, high: input.u64(), low: input.u64())
    if let network = try? IPNetwork(address: raw, prefixLength: prefixLength) {
        guard (0...raw.family.bitCount).contains(prefixLength), network.contains(raw) else {
            fuzzFailure("IPNetwork(address: \(raw), prefixLength: \(prefixLength)) accepted a bad network")
        }
        guard network.contains(other) == referenceContains(network, other) else {
            fuzzFailure("\(network).contains(\(other)) disagrees with comparing the leading bits")
        }
        // An IPv6-family address in the IPv4-mapped range (::ffff:0:0/96) is one no parser makes
        // (they give the IPv4 address), so its text means another network. Only a store file
        // can hold one (LogEntry.decode accepts it); this checks only what the API can make.
        let mapped = raw.family == .ipv6 && raw.high == 0 && raw.low >> 32 == 0xffff
        guard mapped || (try? IPNetwork(parsing: network.description)) == network else {
            fuzzFailure("IPNetwork \(network) does not round-trip through its description")
        }
    }

    guard let network = try? IPNetwork(parsing: first), let address = IPAddress(second) else { return }
    let inside = network.contains(address)
    if address.family != network.address.family, inside {
        fuzzFailure("\(network) contains \(address) of another family")
    }
    if network.prefixLength == network.address.family.bitCount, inside != (address == network.address) {
        fuzzFailure("single-address network \(network) and \(address) disagree")
    }
    if network.prefixLength == 0, address.family == network.address.family, !inside {
        fuzzFailure("/0 network \(network) does not contain \(address)")
    }
    guard inside == referenceContains(network, address) else {
        fuzzFailure("\(network).contains(\(address)) is \(inside), comparing the leading bits says otherwise")
    }
}

/// `contains` computed another way: the leading `prefixLength` bits, compared one by one.
private func referenceContains(_ network: IPNetwork, _ address: IPAddress) -> Bool {
    guard network.address.family == address.family else { return false }
    let bitCount = address.family.bitCount
    func bit(_ value: IPAddress, _ index: Int) -> UInt64 {
        // Bit `index` from the most significant of the address's `bitCount` bits.
        let fromLow = bitCount - 1 - index
        return fromLow >= 64 ? (value.high >> UInt64(fromLow - 64)) & 1 : (value.low >> UInt64(fromLow)) & 1
    }
    return (0..<network.prefixLength).allSatisfy { bit(network.address, $0) == bit(address, $0) }
}
