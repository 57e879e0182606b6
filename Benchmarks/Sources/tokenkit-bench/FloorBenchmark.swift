import Foundation
import TokenKit

/// The floor under validation: a loop doing only what any validation must, with none of what
/// TokenKit adds (the store protocol, records, audit, last-used tracking, typed results).
///
/// Per presented token it checks the format (prefix, length, base62 digits, the CRC-32 that ends
/// the token), hashes the token with SHA-256 — TokenKit's `SHA256Hasher`, which runs on the
/// processor's SHA-256 instructions where there are any, the fastest hash available here — probes
/// one table of 48-byte inline buckets (digest, expiry, flags) with linear probing, and compares
/// the expiry with the clock. TokenKit's validation is reported as a multiple of this loop's time.
///
/// The format check and CRC-32 repeat TokenKit's on purpose: the floor must not run the code it
/// measures TokenKit against (the hash excepted, which is the fastest one here either way).
enum FloorBenchmark {
    /// One table entry, stored inline: the digest, the expiry (seconds since 2001, `.infinity` for
    /// none) and flags. 48 bytes.
    struct Bucket {
        var digest: TokenDigest
        var expiresAt: Double
        var flags: UInt64

        /// An empty bucket: flags 0. Every stored bucket has ``occupied`` set.
        // 32 bytes always make a digest.
        static let empty = Bucket(digest: TokenDigest(bytes: [UInt8](repeating: 0, count: 32))!, expiresAt: 0, flags: 0)
        static let occupied: UInt64 = 1
        static let revoked: UInt64 = 2
    }

    /// An open-addressing table at a load of at most 0.8.
    struct Table {
        var buckets: [Bucket]
        let mask: Int

        init(_ records: [TokenRecord]) {
            var capacity = 16
            while Double(records.count) > 0.8 * Double(capacity) { capacity *= 2 }
            buckets = Array(repeating: .empty, count: capacity)
            mask = capacity - 1
            for record in records {
                var slot = FloorBenchmark.probeStart(record.digest) & mask
                while buckets[slot].flags != 0 { slot = (slot + 1) & mask }
                buckets[slot] = Bucket(
                    digest: record.digest,
                    expiresAt: record.expiresAt?.timeIntervalSinceReferenceDate ?? .infinity,
                    flags: Bucket.occupied | (record.revokedAt == nil ? 0 : Bucket.revoked)
                )
            }
        }
    }

    /// Validations per second of the floor loop over `presented`, median of `rounds` rounds.
    static func rate(records: [TokenRecord], presented: [String], operations: Int, rounds: Int) -> Double {
        let table = Table(records)
        let hasher = SHA256Hasher()
        // Globals read once, outside the loop: on Linux each access to a global costs a call.
        let values = base62Values
        let crc = crcTables
        let times = Statistics.rounds(rounds) {
            var valid = 0
            table.buckets.withUnsafeBufferPointer { buckets in
                values.withUnsafeBufferPointer { values in
                    crc.withUnsafeBufferPointer { crc in
                        let lookUp = LookUp(buckets: buckets, mask: table.mask, values: values, crcTable: crc)
                        for index in 0..<operations {
                            var token = presented[index % presented.count]
                            if token.withUTF8({ lookUp.validate($0, hasher: hasher) }) { valid += 1 }
                        }
                    }
                }
            }
            blackHole(valid)
        }
        return Double(operations) / Statistics.percentile(times, 0.5)
    }

    /// Where a probe starts: the digest's first eight bytes (a digest is uniformly random).
    @inline(__always)
    static func probeStart(_ digest: TokenDigest) -> Int {
        withUnsafeBytes(of: digest) { $0.loadUnaligned(as: Int.self) }
    }

    /// The tables one validation reads, as buffers.
    struct LookUp {
        let buckets: UnsafeBufferPointer<Bucket>
        let mask: Int
        let values: UnsafeBufferPointer<UInt8>
        let crcTable: UnsafeBufferPointer<UInt32>

        /// Whether `bytes` is a well-formed token whose digest is in the table, not revoked, not expired.
        @inline(__always)
        func validate(_ bytes: UnsafeBufferPointer<UInt8>, hasher: SHA256Hasher) -> Bool {
            guard isWellFormed(bytes) else { return false }
            let digest = hasher.digest(UnsafeRawBufferPointer(bytes))
            var slot = FloorBenchmark.probeStart(digest) & mask
            while buckets[slot].flags != 0 {
                if buckets[slot].digest == digest {
                    let bucket = buckets[slot]
                    var now = timespec()
                    clock_gettime(CLOCK_REALTIME, &now)
                    let seconds = Double(now.tv_sec) - Date.timeIntervalBetween1970AndReferenceDate
                    return bucket.flags & Bucket.revoked == 0 && seconds < bucket.expiresAt
                }
                slot = (slot + 1) & mask
            }
            return false
        }

        /// `tk_`, 43 base62 digits of randomness, then 6 base62 digits of the CRC-32 of what precedes them.
        @inline(__always)
        private func isWellFormed(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            guard bytes.count == 52, bytes[0] == UInt8(ascii: "t"), bytes[1] == UInt8(ascii: "k"),
                bytes[2] == UInt8(ascii: "_")
            else { return false }
            var checksum: UInt64 = 0
            for index in 3..<52 {
                let value = values[Int(bytes[index])]
                guard value != 0xff else { return false }
                if index >= 46 { checksum = checksum * 62 + UInt64(value) }
            }
            return checksum == UInt64(crc32(UnsafeBufferPointer(rebasing: bytes[0..<46])))
        }

        /// CRC-32 (IEEE), eight bytes at a time.
        @inline(__always)
        private func crc32(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
            var crc: UInt32 = 0xffff_ffff
            var index = 0
            let raw = UnsafeRawBufferPointer(bytes)
            while index + 8 <= bytes.count {
                let low = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt32.self)) ^ crc
                let high = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self))
                crc =
                    crcTable[7 &* 256 &+ Int(low & 0xff)] ^ crcTable[6 &* 256 &+ Int((low >> 8) & 0xff)]
                    ^ crcTable[5 &* 256 &+ Int((low >> 16) & 0xff)] ^ crcTable[4 &* 256 &+ Int(low >> 24)]
                    ^ crcTable[3 &* 256 &+ Int(high & 0xff)] ^ crcTable[2 &* 256 &+ Int((high >> 8) & 0xff)]
                    ^ crcTable[256 &+ Int((high >> 16) & 0xff)] ^ crcTable[Int(high >> 24)]
                index += 8
            }
            while index < bytes.count {
                crc = crcTable[Int((crc ^ UInt32(bytes[index])) & 0xff)] ^ (crc >> 8)
                index += 1
            }
            return crc ^ 0xffff_ffff
        }
    }

    private static let base62Values: [UInt8] = (0...255).map { byte in
        let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        return digits.firstIndex(of: UInt8(byte)).map(UInt8.init) ?? 0xff
    }

    private static let crcTables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var value = UInt32(byte)
            for _ in 0..<8 { value = value & 1 == 1 ? 0xedb8_8320 ^ (value >> 1) : value >> 1 }
            tables[byte] = value
        }
        for slice in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(slice - 1) * 256 + byte]
                tables[slice * 256 + byte] = tables[Int(previous & 0xff)] ^ (previous >> 8)
            }
        }
        return tables
    }()
}
