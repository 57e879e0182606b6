/// A hash table from a 64-bit hash to a record slot, for keys that are already random: token
/// digests and ids. `TokenIndex` keeps one per key.
///
/// Why not `Dictionary`: at a million tokens, `Dictionary<TokenDigest, Int32>` spends 36 bytes a
/// bucket and runs `Hasher` (SipHash) on every look-up, while digests and ids need no hashing at
/// all. This table stores 8 bytes a bucket — a 32-bit fingerprint and the slot — and mixes the key's
/// bits with a per-process seed, so that keys chosen by someone else still cannot be made to
/// collide.
///
/// Open addressing with linear probing, at most 4/5 full, and backward-shift deletion (no
/// tombstones). Fuller than the usual 5/8 to save memory at a million tokens: a miss (an unknown
/// token) compares up to about 13 fingerprints on average, in one or two cache lines, after the
/// token has already been hashed. The bucket count need not be a power of two: a fingerprint's home bucket is
/// `fingerprint × bucketCount / 2³²`, so the table grows by half again instead of doubling, and a
/// million keys take 1.25–1.9 million buckets rather than 2 million. A bucket's home depends only on
/// its fingerprint, so the table can be resized and shifted without the keys.
struct SlotTable: Sendable {
    /// Each bucket: 0 when empty, else `fingerprint << 32 | (slot + 1)`.
    private var buckets: [UInt64]
    private(set) var count = 0
    private let seed: UInt64

    init(minimumCapacity: Int = 0) {
        buckets = [UInt64](repeating: 0, count: Self.bucketCount(for: minimumCapacity))
        var generator = SystemRandomNumberGenerator()
        seed = generator.next() | 1
    }

    /// The bucket count needed for `count` keys at most 4/5 full: the least that ``fits(_:in:)``.
    private static func bucketCount(for count: Int) -> Int {
        max(16, (count * 5 + 3) / 4)
    }

    /// Whether `count` keys fit in `bucketCount` buckets at most 4/5 full. At least a fifth of the
    /// buckets stay empty, so every probe ends.
    private static func fits(_ count: Int, in bucketCount: Int) -> Bool {
        count * 5 <= bucketCount * 4
    }

    /// Mixes a key's bits into the fingerprint, whose bits pick the home bucket.
    @inline(__always)
    func fingerprint(_ key: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: ((key ^ seed) &* 0x9E37_79B9_7F4A_7C15) >> 32)
    }

    /// The home bucket of `fingerprint` among `bucketCount`: the fingerprint scaled to the count.
    @inline(__always)
    private static func home(_ fingerprint: UInt32, bucketCount: Int) -> Int {
        Int((UInt64(fingerprint) &* UInt64(bucketCount)) >> 32)
    }

    /// How many buckets past `home` the bucket `index` lies, wrapping at the end.
    @inline(__always)
    private static func distance(from home: Int, to index: Int, bucketCount: Int) -> Int {
        index >= home ? index - home : index + bucketCount - home
    }

    /// The slot whose key hashes to `key` and for which `matches` is true.
    @inline(__always)
    func find(_ key: UInt64, where matches: (Int32) -> Bool) -> Int32? {
        let wanted = fingerprint(key)
        return buckets.withUnsafeBufferPointer { buckets in
            var index = Self.home(wanted, bucketCount: buckets.count)
            while true {
                let bucket = buckets[index]
                if bucket == 0 { return nil }
                if UInt32(truncatingIfNeeded: bucket >> 32) == wanted {
                    let slot = Int32(truncatingIfNeeded: bucket & 0xffff_ffff) - 1
                    if matches(slot) { return slot }
                }
                index += 1
                if index == buckets.count { index = 0 }
            }
        }
    }

    /// Adds `slot` under `key`. The caller makes sure the key is not already present.
    mutating func insert(_ key: UInt64, slot: Int32) {
        if !Self.fits(count + 1, in: buckets.count) {
            resize(bucketCount: max(Self.bucketCount(for: count + 1), buckets.count + buckets.count / 2))
        }
        place(UInt64(fingerprint(key)) << 32 | UInt64(UInt32(slot) + 1))
        count += 1
    }

    /// Removes the entry for `slot` under `key`, shifting later entries back into the gap.
    mutating func remove(_ key: UInt64, slot: Int32) {
        let entry = UInt64(fingerprint(key)) << 32 | UInt64(UInt32(slot) + 1)
        let bucketCount = buckets.count
        var index = Self.home(fingerprint(key), bucketCount: bucketCount)
        while buckets[index] != entry {
            if buckets[index] == 0 { return }
            index = index + 1 == bucketCount ? 0 : index + 1
        }
        // Backward-shift deletion: move each following entry into the gap when the gap lies on its
        // probe path from its home bucket.
        var gap = index
        var next = gap + 1 == bucketCount ? 0 : gap + 1
        while buckets[next] != 0 {
            let nextHome = Self.home(UInt32(truncatingIfNeeded: buckets[next] >> 32), bucketCount: bucketCount)
            if Self.distance(from: nextHome, to: next, bucketCount: bucketCount)
                >= Self.distance(from: gap, to: next, bucketCount: bucketCount)
            {
                buckets[gap] = buckets[next]
                gap = next
            }
            next = next + 1 == bucketCount ? 0 : next + 1
        }
        buckets[gap] = 0
        count -= 1
    }

    /// Grows the table so that `count` keys fit without resizing.
    mutating func reserveCapacity(_ count: Int) {
        if !Self.fits(count, in: buckets.count) { resize(bucketCount: Self.bucketCount(for: count)) }
    }

    private mutating func place(_ entry: UInt64) {
        let bucketCount = buckets.count
        var index = Self.home(UInt32(truncatingIfNeeded: entry >> 32), bucketCount: bucketCount)
        while buckets[index] != 0 { index = index + 1 == bucketCount ? 0 : index + 1 }
        buckets[index] = entry
    }

    private mutating func resize(bucketCount: Int) {
        let old = buckets
        buckets = [UInt64](repeating: 0, count: bucketCount)
        for entry in old where entry != 0 { place(entry) }
    }
}
