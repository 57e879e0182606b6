internal import CTokenKitSHA256
import Foundation

/// A streaming SHA-256 (FIPS 180-4) that never allocates on the heap.
///
/// The state and the partial block are stored inline, so hashing a token costs no allocation; copying
/// a value copies the midstate, which is how ``HMACSHA256Hasher`` precomputes its padded keys.
///
/// Whole blocks go to the processor's SHA-256 instructions when it has them (the C target
/// `CTokenKitSHA256`), else to the portable Swift code below; both give the same digests.
struct SHA256: Sendable {
    /// Which code processes whole blocks.
    enum Implementation: Sendable, Hashable, CaseIterable {
        /// FIPS 180-4's algorithm in Swift: runs everywhere.
        case portable
        /// The processor's SHA-256 instructions: the SHA extensions on x86-64, the SHA-2
        /// instructions on arm64. Only where ``isHardwareAvailable``.
        case hardware

        /// Whether this processor has SHA-256 instructions (asked once: cpuid, `getauxval` or sysctl).
        static let isHardwareAvailable = tokenkit_sha256_hardware_available() != 0

        /// Whether the environment asks for the portable code: `TOKENKIT_SHA256=portable`, for
        /// tools that report SHA-256 instructions they cannot run (valgrind 3.19 stops with SIGILL).
        static let isPortableRequested = ProcessInfo.processInfo.environment["TOKENKIT_SHA256"] == "portable"

        /// The implementation hashers use: the fastest this processor runs, unless the environment
        /// asks for the portable code.
        static let fastest: Implementation = isHardwareAvailable && !isPortableRequested ? .hardware : .portable

        /// Every implementation this processor runs, for tests that compare them.
        static var available: [Implementation] { isHardwareAvailable ? [.portable, .hardware] : [.portable] }
    }

    /// H0…H7, contiguous so that the hardware code can take a pointer to them.
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
    )
    /// The bytes of the current, not yet full block.
    private var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var pendingCount = 0
    private var totalBytes: UInt64 = 0
    private let implementation: Implementation

    static let blockSize = 64

    /// Starts a hash that processes blocks with `implementation`; by default the fastest this
    /// processor has. Tests pass each of ``Implementation/available`` to compare them.
    init(implementation: Implementation = .fastest) {
        precondition(implementation != .hardware || Implementation.isHardwareAvailable, "no SHA-256 instructions")
        self.implementation = implementation
    }

    /// Hashes `bytes` in one call.
    static func hash(_ bytes: UnsafeRawBufferPointer, implementation: Implementation = .fastest) -> TokenDigest {
        var hasher = SHA256(implementation: implementation)
        hasher.update(bytes)
        return hasher.finalize()
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var input = bytes.baseAddress, !bytes.isEmpty else { return }
        var remaining = bytes.count
        totalBytes &+= UInt64(remaining)

        if pendingCount > 0 {
            let taken = min(Self.blockSize - pendingCount, remaining)
            let count = pendingCount
            withUnsafeMutableBytes(of: &pending) { block in
                block.baseAddress!.advanced(by: count).copyMemory(from: input, byteCount: taken)
            }
            pendingCount += taken
            input += taken
            remaining -= taken
            guard pendingCount == Self.blockSize else { return }
            var block = pending
            withUnsafeBytes(of: &block) { compress($0.baseAddress!, blocks: 1) }
            pendingCount = 0
        }
        let wholeBlocks = remaining / Self.blockSize
        if wholeBlocks > 0 {
            compress(input, blocks: wholeBlocks)
            input += wholeBlocks * Self.blockSize
            remaining -= wholeBlocks * Self.blockSize
        }
        if remaining > 0 {
            withUnsafeMutableBytes(of: &pending) { block in
                block.baseAddress!.copyMemory(from: input, byteCount: remaining)
            }
            pendingCount = remaining
        }
    }

    /// Pads the message, processes the last block or two and returns the digest.
    consuming func finalize() -> TokenDigest {
        let bitLength = totalBytes &* 8
        var block = pending
        let count = pendingCount
        withUnsafeMutableBytes(of: &block) { bytes in
            bytes[count] = 0x80
            for index in (count + 1)..<Self.blockSize { bytes[index] = 0 }
        }
        if count >= Self.blockSize - 8 {
            withUnsafeBytes(of: &block) { compress($0.baseAddress!, blocks: 1) }
            block = (0, 0, 0, 0, 0, 0, 0, 0)
        }
        block.7 = bitLength.bigEndian
        withUnsafeBytes(of: &block) { compress($0.baseAddress!, blocks: 1) }
        return TokenDigest(
            UInt64(state.0) << 32 | UInt64(state.1),
            UInt64(state.2) << 32 | UInt64(state.3),
            UInt64(state.4) << 32 | UInt64(state.5),
            UInt64(state.6) << 32 | UInt64(state.7)
        )
    }

    /// Processes `blocks` whole 64-byte blocks starting at `start`.
    private mutating func compress(_ start: UnsafeRawPointer, blocks: Int) {
        switch implementation {
        case .hardware:
            withUnsafeMutableBytes(of: &state) { state in
                tokenkit_sha256_compress_hardware(
                    state.baseAddress!.assumingMemoryBound(to: UInt32.self),
                    start.assumingMemoryBound(to: UInt8.self),
                    blocks
                )
            }
        case .portable:
            for index in 0..<blocks { compressPortably(start + index * Self.blockSize) }
        }
    }

    /// Processes one 64-byte block starting at `block`, in Swift.
    private mutating func compressPortably(_ block: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for t in 0..<16 {
                w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: t * 4, as: UInt32.self))
            }
            for t in 16..<64 {
                let s0 = w[t - 15].rotatedRight(7) ^ w[t - 15].rotatedRight(18) ^ (w[t - 15] >> 3)
                let s1 = w[t - 2].rotatedRight(17) ^ w[t - 2].rotatedRight(19) ^ (w[t - 2] >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var a = state.0
            var b = state.1
            var c = state.2
            var d = state.3
            var e = state.4
            var f = state.5
            var g = state.6
            var h = state.7
            // The round constants, from the C target: one table for every implementation.
            let k = tokenkit_sha256_round_constants_pointer()
            // Eight rounds a pass, the working variables changing roles instead of values.
            var t = 0
            while t < 64 {
                sha256Round(a, b, c, &d, e, f, g, &h, k[t] &+ w[t])
                sha256Round(h, a, b, &c, d, e, f, &g, k[t + 1] &+ w[t + 1])
                sha256Round(g, h, a, &b, c, d, e, &f, k[t + 2] &+ w[t + 2])
                sha256Round(f, g, h, &a, b, c, d, &e, k[t + 3] &+ w[t + 3])
                sha256Round(e, f, g, &h, a, b, c, &d, k[t + 4] &+ w[t + 4])
                sha256Round(d, e, f, &g, h, a, b, &c, k[t + 5] &+ w[t + 5])
                sha256Round(c, d, e, &f, g, h, a, &b, k[t + 6] &+ w[t + 6])
                sha256Round(b, c, d, &e, f, g, h, &a, k[t + 7] &+ w[t + 7])
                t += 8
            }
            state.0 &+= a
            state.1 &+= b
            state.2 &+= c
            state.3 &+= d
            state.4 &+= e
            state.5 &+= f
            state.6 &+= g
            state.7 &+= h
        }
    }
}

/// One SHA-256 round (FIPS 180-4, 6.2.2 step 3) on the working variables a…h, where `constantAndWord`
/// is K[t] + W[t]. Instead of shifting all eight variables along, it updates `d` and `h` in place;
/// the caller passes the variables in rotated roles for the next round.
@inline(__always)
private func sha256Round(
    _ a: UInt32,
    _ b: UInt32,
    _ c: UInt32,
    _ d: inout UInt32,
    _ e: UInt32,
    _ f: UInt32,
    _ g: UInt32,
    _ h: inout UInt32,
    _ constantAndWord: UInt32
) {
    let sigma1 = e.rotatedRight(6) ^ e.rotatedRight(11) ^ e.rotatedRight(25)
    let choice = g ^ (e & (f ^ g))
    let temp1 = h &+ sigma1 &+ choice &+ constantAndWord
    let sigma0 = a.rotatedRight(2) ^ a.rotatedRight(13) ^ a.rotatedRight(22)
    let majority = (a & b) | (c & (a | b))
    d &+= temp1
    h = temp1 &+ sigma0 &+ majority
}

extension UInt32 {
    /// Rotates right. Masking shifts (`&>>`, `&<<`) compile to one rotate instruction; Swift's
    /// ordinary shifts would add overshift checks to every one of SHA-256's 600 rotations a block.
    @inline(__always)
    fileprivate func rotatedRight(_ count: UInt32) -> UInt32 {
        (self &>> count) | (self &<< (32 &- count))
    }
}
