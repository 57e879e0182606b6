/// A hash table from a 64-bit hash to a record slot, for keys that are already random: token
/// digests and ids. `TokenIndex` keeps one per key.
///
/// Why not `Dictionary`: at a million tokens, `Dictionary<TokenDigest, Int32>` spends 36 bytes a
/// bucket and runs `Hasher` (SipHash) on every look-up, while digests and ids need no hashing at
/// all. This table stores 8 bytes a bucket — a 32-bit fingerprint and the slot — and mixes the key's
/// bits with a per-process seed, so that keys chosen by someone else still cannot be made to
/// collide.
///
/// Open addressing with linear probing, at most 5/8 full, and backward-shift deletion (no
/// tombstones). A bucket's home is the top bits of its fingerprint, so the table can be resized
/// and shifted without the keys.
struct SlotTable: Sendable {
    /// Each bucket: 0 when empty, else `fingerprint << 32 | (slot + 1)`.
    private var buckets: [UInt64]
    private var bits: Int
    private(set) var count = 0
    private let seed: UInt64

    init(minimumCapacity: Int = 0) {
        bits = Self.bits(for: minimumCapacity)
        buckets = [UInt64](repeating: 0, count: 1 << bits)
        var generator = SystemRandomNumberGenerator()
        seed = generator.next() | 1
    }

    /// The bucket count needed for `count` keys at most 5/8 full.
    private static func bits(for count: Int) -> Int {
        var bits = 4
        while (1 << bits) * 5 / 8 < count { bits += 1 }
        return bits
    }

    /// Mixes a key's bits into the fingerprint, whose top bits pick the home bucket.
    @inline(__always)
    func fingerprint(_ key: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: ((key ^ seed) &* 0x9E37_79B9_7F4A_7C15) >> 32)
    }

    @inline(__always)
    private func home(_ fingerprint: UInt32) -> Int {
        Int(fingerprint >> UInt32(32 - bits))
    }

    /// The slot whose key hashes to `key` and for which `matches` is true.
    @inline(__always)
    func find(_ key: UInt64, where matches: (Int32) -> Bool) -> Int32? {
        let wanted = fingerprint(key)
        let mask = (1 << bits) - 1
        var index = home(wanted)
        return buckets.withUnsafeBufferPointer { buckets in
            while true {
                let bucket = buckets[index]
                if bucket == 0 { return nil }
                if UInt32(truncatingIfNeeded: bucket >> 32) == wanted {
                    let slot = Int32(truncatingIfNeeded: bucket & 0xffff_ffff) - 1
                    if matches(slot) { return slot }
                }
                index = (index + 1) & mask
            }
        }
    }

    /// Adds `slot` under `key`. The caller makes sure the key is not already present.
    mutating func insert(_ key: UInt64, slot: Int32) {
        if (count + 1) > (1 << bits) * 5 / 8 {
            resize(bits: bits + 1)
        }
        place(UInt64(fingerprint(key)) << 32 | UInt64(UInt32(slot) + 1))
        count += 1
    }

    /// Removes the entry for `slot` under `key`, shifting later entries back into the gap.
    mutating func remove(_ key: UInt64, slot: Int32) {
        let entry = UInt64(fingerprint(key)) << 32 | UInt64(UInt32(slot) + 1)
        let mask = (1 << bits) - 1
        var index = home(fingerprint(key))
        while buckets[index] != entry {
            if buckets[index] == 0 { return }
            index = (index + 1) & mask
        }
        // Backward-shift deletion: move each following entry into the gap when the gap lies on its
        // probe path from its home bucket.
        var gap = index
        var next = (gap + 1) & mask
        while buckets[next] != 0 {
            let nextHome = home(UInt32(truncatingIfNeeded: buckets[next] >> 32))
            if (next - nextHome) & mask >= (next - gap) & mask {
                buckets[gap] = buckets[next]
                gap = next
            }
            next = (next + 1) & mask
        }
        buckets[gap] = 0
        count -= 1
    }

    /// Grows the table so that `count` keys fit without resizing.
    mutating func reserveCapacity(_ count: Int) {
        let wanted = Self.bits(for: count)
        if wanted > bits { resize(bits: wanted) }
    }

    private mutating func place(_ entry: UInt64) {
        let mask = (1 << bits) - 1
        var index = home(UInt32(truncatingIfNeeded: entry >> 32))
        while buckets[index] != 0 { index = (index + 1) & mask }
        buckets[index] = entry
    }

    private mutating func resize(bits newBits: Int) {
        let old = buckets
        bits = newBits
        buckets = [UInt64](repeating: 0, count: 1 << newBits)
        for entry in old where entry != 0 { place(entry) }
    }
}
