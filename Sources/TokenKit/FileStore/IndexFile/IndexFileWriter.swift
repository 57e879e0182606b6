/// Builds the index file of a snapshot while compaction writes the snapshot's records to the log:
/// ``add(_:at:encoded:)`` for each record, then ``write(to:snapshot:)``.
///
/// It keeps about 40 bytes per record until the file is written.
struct IndexFileWriter {
    /// Each record's place in the log: offset, length and checksum of its entry.
    private var locations: [(offset: UInt64, length: UInt32, crc: UInt32)] = []
    private var digestHashes: [UInt64] = []
    private var idHashes: [UInt64] = []
    private var ownerHashes: [UInt64] = []

    /// The snapshot's fields the index file records to be identified with it.
    struct Snapshot {
        var sequence: UInt64
        var end: Int
        var lastBatchOffset: Int
        var lastBatchCRC: UInt32
        var hasher: TokenHasherIdentity?
    }

    /// Notes `record`, whose put entry is `encoded`, written at `offset` in the log.
    mutating func add(_ record: TokenRecord, at offset: Int, encoded: UnsafeRawBufferPointer) {
        locations.append((UInt64(offset), UInt32(encoded.count), CRC32.update(0, encoded)))
        digestHashes.append(IndexFileFormat.hash(record.digest))
        idHashes.append(IndexFileFormat.hash(record.id))
        ownerHashes.append(IndexFileFormat.hash(owner: record.owner))
    }

    /// Whether an index file can describe `snapshot`: not when it has too many records, or a
    /// hasher identity too long for the header page (only a crafted log holds one). The store then
    /// reads its whole log when it opens, as without an index file.
    func canDescribe(_ snapshot: Snapshot) -> Bool {
        let hasherBytes = snapshot.hasher.map { $0.algorithm.utf8.count + $0.keyFingerprint.utf8.count } ?? 0
        return locations.count <= IndexFileFormat.maximumRecords && hasherBytes <= IndexFileFormat.maximumHasherBytes
    }

    /// Writes the index file to `file` (a new, empty file) and syncs it.
    func write(to file: POSIXFile, snapshot: Snapshot) throws(TokenKitError) {
        let count = locations.count
        var header = IndexFileFormat.Header(
            snapshotSequence: snapshot.sequence,
            snapshotEnd: snapshot.end,
            lastBatchOffset: snapshot.lastBatchOffset,
            lastBatchCRC: snapshot.lastBatchCRC,
            recordCount: count,
            digestBucketCount: IndexFileFormat.bucketCount(for: count),
            idBucketCount: IndexFileFormat.bucketCount(for: count),
            ownerBucketCount: 0,
            memberCount: count,
            checksumPage: 0,
            checksumsCRC: 0,
            hasher: snapshot.hasher
        )
        // Each owner's records, together: record numbers sorted by the owner's hash.
        let members = (0..<count).sorted { (ownerHashes[$0], $0) < (ownerHashes[$1], $1) }
        var owners: [(hash: UInt64, first: Int, count: Int)] = []
        for (position, record) in members.enumerated() {
            let hash = ownerHashes[record]
            if let last = owners.last, last.hash == hash {
                owners[owners.count - 1].count += 1
            } else {
                owners.append((hash, position, 1))
            }
        }
        header.ownerBucketCount = IndexFileFormat.bucketCount(for: owners.count)
        header.checksumPage = header.expectedChecksumPage

        var sections = ByteWriter()
        var sectionStart = 0
        for location in locations {
            sections.u64(location.offset)
            sections.u32(location.length)
            sections.u32(location.crc)
        }
        Self.pad(&sections, from: &sectionStart)
        for bucket in Self.table(of: digestHashes, buckets: header.digestBucketCount) { sections.u64(bucket) }
        Self.pad(&sections, from: &sectionStart)
        for bucket in Self.table(of: idHashes, buckets: header.idBucketCount) { sections.u64(bucket) }
        Self.pad(&sections, from: &sectionStart)
        var ownerBuckets = [(hash: UInt64, first: Int, count: Int)](
            repeating: (0, 0, 0),
            count: header.ownerBucketCount
        )
        for owner in owners {
            var bucket = IndexFileFormat.home(of: owner.hash, in: ownerBuckets.count)
            while ownerBuckets[bucket].count != 0 { bucket = (bucket + 1) % ownerBuckets.count }
            ownerBuckets[bucket] = owner
        }
        for bucket in ownerBuckets {
            sections.u64(bucket.hash)
            sections.u32(UInt32(bucket.first))
            sections.u32(UInt32(bucket.count))
        }
        Self.pad(&sections, from: &sectionStart)
        for record in members { sections.u32(UInt32(record)) }
        Self.pad(&sections, from: &sectionStart)

        var checksums = ByteWriter()
        sections.bytes.withUnsafeBytes { bytes in
            for start in stride(from: 0, to: bytes.count, by: IndexFileFormat.pageSize) {
                let page = UnsafeRawBufferPointer(rebasing: bytes[start..<start + IndexFileFormat.pageSize])
                checksums.u32(CRC32.update(0, page))
            }
        }
        header.checksumsCRC = CRC32.checksum(checksums.bytes)
        try file.write(sections.bytes, at: IndexFileFormat.pageSize)
        try file.write(checksums.bytes, at: header.checksumPage * IndexFileFormat.pageSize)
        try file.write(header.encoded(), at: 0)
        try file.synchronize()
    }

    /// A hash table of record numbers: bucket = tag | (record + 1) << 32, in little-endian order
    /// the `{ u32 tag, u32 record + 1 }` of the format.
    private static func table(of hashes: [UInt64], buckets count: Int) -> [UInt64] {
        var buckets = [UInt64](repeating: 0, count: count)
        for (record, hash) in hashes.enumerated() {
            var bucket = IndexFileFormat.home(of: hash, in: count)
            while buckets[bucket] != 0 { bucket = (bucket + 1) % count }
            buckets[bucket] = UInt64(IndexFileFormat.tag(of: hash)) | UInt64(record + 1) << 32
        }
        return buckets
    }

    /// Pads the section that starts at `start` with zeros to the pages the format gives it (one
    /// at least), and moves `start` to the next section.
    private static func pad(_ writer: inout ByteWriter, from start: inout Int) {
        let length = writer.bytes.count - start
        let padded = IndexFileFormat.pages(length) * IndexFileFormat.pageSize
        writer.raw(repeatElement(0, count: padded - length))
        start = writer.bytes.count
    }
}
