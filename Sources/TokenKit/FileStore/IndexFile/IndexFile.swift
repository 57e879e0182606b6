/// An index file opened for reading: finds a snapshot's records in the log by digest, id or owner,
/// and decodes them from the log on demand; or reads the log's snapshot in order, to search every
/// record.
///
/// It is read with `pread`, a checked page at a time, not mapped: a mapped file that someone
/// truncates raises SIGBUS, and truncated files are among the damage a store must survive. The
/// page cache still serves repeated reads. Every page is checked against its checksum each time it
/// is read, and every record against the checksum of its entry and the key it was found by, so
/// damage to either file is thrown as ``TokenKitError/Code/storeCorrupted``, never taken for an
/// answer.
///
/// Immutable, so `Sendable`: compaction reads it while readers do.
final class IndexFile: Sendable {
    let header: IndexFileFormat.Header
    /// The index file.
    private let file: POSIXFile
    /// The log whose snapshot it describes. It stays readable after a compaction renames a newer
    /// log over its path: the descriptor keeps the file.
    let log: POSIXFile
    /// The store's path, for messages (the files may have been opened under a compaction's
    /// temporary names).
    private let storePath: String
    /// The checksum of each table page, from page 1.
    private let pageChecksums: [UInt32]

    /// The index file's path for the store at `path`.
    static func path(forStore path: String) -> String { path + ".index" }

    /// Opens the index file at `path` if it describes the snapshot `log` starts with; `nil` when
    /// there is none, it belongs to another snapshot, its header or checksums are damaged, or
    /// other users may write it (the store then reads the whole log, as it can always do).
    static func open(
        path: String,
        log: POSIXFile,
        logHeader: StoreFileFormat.Header
    ) -> IndexFile? {
        guard logHeader.snapshotSequence > 0, POSIXFile.status(atPath: path) != nil else { return nil }
        do {
            let file = try POSIXFile(readingExisting: path)
            // One that others could have written is not trusted (it could hide records).
            let status = try file.status()
            guard status.isRegularFile, !status.isSharedWithOthers else { return nil }
            guard let header = IndexFileFormat.Header.decode(try file.read(count: IndexFileFormat.pageSize, at: 0)),
                header.snapshotSequence == logHeader.snapshotSequence,
                header.snapshotEnd == logHeader.snapshotEnd,
                try log.status().size >= header.snapshotEnd,
                try lastBatchMatches(header, in: log)
            else { return nil }
            let count = header.checksumPage - 1
            // The header's sizes are checked against the file before anything is allocated.
            guard status.size == header.checksumPage * IndexFileFormat.pageSize + count * 4 else { return nil }
            let bytes = try file.read(count: count * 4, at: header.checksumPage * IndexFileFormat.pageSize)
            guard bytes.count == count * 4, CRC32.checksum(bytes) == header.checksumsCRC else { return nil }
            let checksums = bytes.withUnsafeBytes { raw in
                (0..<count).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
            }
            return IndexFile(
                header: header,
                file: file,
                log: log,
                storePath: String(path.dropLast(".index".count)),
                pageChecksums: checksums
            )
        } catch {
            // An index file that cannot be read is no index file: the log alone is the truth.
            return nil
        }
    }

    private init(
        header: IndexFileFormat.Header,
        file: POSIXFile,
        log: POSIXFile,
        storePath: String,
        pageChecksums: [UInt32]
    ) {
        self.header = header
        self.file = file
        self.log = log
        self.storePath = storePath
        self.pageChecksums = pageChecksums
    }

    /// Whether the log's snapshot ends with the batch the index file names.
    private static func lastBatchMatches(
        _ header: IndexFileFormat.Header,
        in log: POSIXFile
    ) throws(TokenKitError)
        -> Bool
    {
        let bytes = try log.read(count: StoreFileFormat.batchHeaderSize, at: header.lastBatchOffset)
        guard bytes.count == StoreFileFormat.batchHeaderSize else { return false }
        return bytes.withUnsafeBytes { raw in
            func u32(_ offset: Int) -> UInt32 {
                UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            }
            let payloadLength = Int(u32(4))
            return u32(0) == StoreFileFormat.batchMagic
                && header.lastBatchOffset + StoreFileFormat.batchHeaderSize + payloadLength == header.snapshotEnd
                && u32(20) & StoreFileFormat.lastPartFlag != 0
                && u32(24) == header.lastBatchCRC
        }
    }

    // MARK: Look-ups

    /// Every snapshot record that satisfies `isIncluded`, read from the log in order, a batch at a
    /// time: nothing but the matches is kept, and the index file's pages are not read. (Whether
    /// the memory layer hides a match is the caller's to check.)
    ///
    /// - Throws: ``TokenKitError/Code/storeCorrupted`` when the log's snapshot is not whole, or holds
    ///   removals, which compaction never writes and this search does not apply: the caller then
    ///   reads the whole log, which reports the damage, or applies the removals in order.
    func records(where isIncluded: (TokenRecord) -> Bool) throws(TokenKitError) -> [TokenRecord] {
        var scanner = LogScanner(file: log, end: header.snapshotEnd, snapshotEnd: header.snapshotEnd)
        var found: [TokenRecord] = []
        var holdsRemovals = false
        let outcome = try scanner.scan(from: StoreFileFormat.headerSize, after: 0) { (entries, _) in
            for entry in entries {
                switch entry {
                case .put(let record): if isIncluded(record) { found.append(record) }
                case .remove: holdsRemovals = true
                case .hasher: break
                }
            }
        }
        guard !holdsRemovals, outcome.stop == .end, outcome.committedEnd == header.snapshotEnd,
            outcome.lastSequence == header.snapshotSequence
        else {
            throw TokenKitError(
                .storeCorrupted,
                "The snapshot of the token store \(quoted(storePath)) cannot be searched by itself (it is not whole from offset \(outcome.problemOffset ?? outcome.committedEnd), or holds removals); read the whole log."
            )
        }
        return found
    }

    /// The snapshot record with `digest`, and its number.
    func record(forDigest digest: TokenDigest) throws(TokenKitError) -> (number: Int, record: TokenRecord)? {
        try probe(
            hash: IndexFileFormat.hash(digest),
            page: header.digestPage,
            buckets: header.digestBucketCount
        ) { $0.digest == digest }
    }

    /// The snapshot record with `id`, and its number.
    func record(id: TokenID) throws(TokenKitError) -> (number: Int, record: TokenRecord)? {
        try probe(hash: IndexFileFormat.hash(id), page: header.idPage, buckets: header.idBucketCount) { $0.id == id }
    }

    /// The snapshot records of `owner`, with their numbers.
    func records(owner: String) throws(TokenKitError) -> [(number: Int, record: TokenRecord)] {
        let hash = IndexFileFormat.hash(owner: owner)
        var bucket = IndexFileFormat.home(of: hash, in: header.ownerBucketCount)
        var pages = PageCache()
        for _ in 0..<header.ownerBucketCount {
            // An owner bucket: { u64 hash, u32 first member, u32 member count }.
            let owners = try entry(bucket, size: IndexFileFormat.ownerBucketSize, page: header.ownerPage, &pages)
            let count = Int(owners.second)
            guard count != 0 else { return [] }
            if owners.wide == hash {
                guard Int(owners.first) + count <= header.memberCount else { throw damaged("an owner's records") }
                var found: [(number: Int, record: TokenRecord)] = []
                for member in Int(owners.first)..<Int(owners.first) + count {
                    let number = try memberRecord(member, &pages)
                    let record = try record(number: number)
                    // Owners whose names hash alike share a bucket.
                    if record.owner == owner { found.append((number, record)) }
                }
                return found
            }
            bucket = (bucket + 1) % header.ownerBucketCount
        }
        throw damaged("the owner table (no empty bucket)")
    }

    /// The snapshot record numbered `number`, decoded from the log and checked against the checksum
    /// of its entry.
    func record(number: Int) throws(TokenKitError) -> TokenRecord {
        guard number >= 0, number < header.recordCount else { throw damaged("a record number") }
        var pages = PageCache()
        let location = try entry(number, size: IndexFileFormat.recordEntrySize, page: header.recordsPage, &pages)
        // A record's place: { u64 offset, u32 length, u32 crc32 }.
        let offset = Int(clamping: location.wide)
        let length = Int(location.first)
        guard offset >= StoreFileFormat.headerSize + StoreFileFormat.batchHeaderSize,
            length <= StoreFileFormat.maximumPayload, offset <= header.snapshotEnd - length
        else { throw damaged("a record's place in the log") }
        let bytes = try log.read(count: length, at: offset)
        guard bytes.count == length, CRC32.checksum(bytes) == location.second else {
            throw TokenKitError(
                .storeCorrupted,
                "The token store \(quoted(storePath)) is damaged at offset \(offset) (a record of its snapshot fails its checksum). Restore it from a backup, or open it with recovery: .salvageIntactRecords to keep every intact record."
            )
        }
        guard let record = bytes.withUnsafeBytes(Self.decodePut) else { throw damaged("a record entry") }
        return record
    }

    /// The record of the put entry that is all of `bytes`; `nil` when they are anything else (a
    /// malformed entry, another kind, or bytes left over), which the caller reports as damage.
    private static func decodePut(_ bytes: UnsafeRawBufferPointer) -> TokenRecord? {
        var reader = ByteReader(bytes)
        do throws(ByteReader.Malformed) {
            guard case .put(let record) = try LogEntry.decode(from: &reader), reader.isAtEnd else { return nil }
            return record
        } catch {
            return nil
        }
    }

    // MARK: Pages

    /// Probes a `{ u32 tag, u32 record + 1 }` table from the hash's home bucket, decoding the
    /// records whose tag matches until `matches` accepts one.
    private func probe(
        hash: UInt64,
        page: Int,
        buckets: Int,
        matches: (TokenRecord) -> Bool
    ) throws(TokenKitError) -> (number: Int, record: TokenRecord)? {
        let tag = IndexFileFormat.tag(of: hash)
        var bucket = IndexFileFormat.home(of: hash, in: buckets)
        var pages = PageCache()
        for _ in 0..<buckets {
            let value = try u64(at: bucket * IndexFileFormat.bucketSize, page: page, &pages)
            guard value != 0 else { return nil }
            if UInt32(truncatingIfNeeded: value) == tag {
                let number = Int(value >> 32) - 1
                let record = try record(number: number)
                if matches(record) { return (number, record) }
            }
            bucket = (bucket + 1) % buckets
        }
        throw damaged("a hash table (no empty bucket)")
    }

    /// The page a look-up read last, to spare its next bucket a second read.
    private struct PageCache {
        var number = 0
        var bytes: [UInt8] = []
    }

    /// A 16-byte entry of a section: a u64 and two u32s.
    private func entry(
        _ index: Int,
        size: Int,
        page: Int,
        _ pages: inout PageCache
    ) throws(TokenKitError)
        -> (wide: UInt64, first: UInt32, second: UInt32)
    {
        let offset = index * size
        let value = try u64(at: offset, page: page, &pages)
        let second = try u64(at: offset + 8, page: page, &pages)
        return (value, UInt32(truncatingIfNeeded: second), UInt32(truncatingIfNeeded: second >> 32))
    }

    private func memberRecord(_ member: Int, _ pages: inout PageCache) throws(TokenKitError) -> Int {
        let offset = member * IndexFileFormat.memberSize
        let pair = try u64(at: offset & ~7, page: header.memberPage, &pages)
        return Int(offset & 4 == 0 ? UInt32(truncatingIfNeeded: pair) : UInt32(truncatingIfNeeded: pair >> 32))
    }

    /// The little-endian u64 at `offset` bytes into the section that starts at `page`.
    private func u64(at offset: Int, page: Int, _ pages: inout PageCache) throws(TokenKitError) -> UInt64 {
        let number = page + offset / IndexFileFormat.pageSize
        if pages.number != number {
            pages = PageCache(number: number, bytes: try self.page(number))
        }
        return pages.bytes.withUnsafeBytes {
            UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: offset % IndexFileFormat.pageSize, as: UInt64.self))
        }
    }

    /// Table page `number`, checked against its checksum.
    private func page(_ number: Int) throws(TokenKitError) -> [UInt8] {
        guard number >= 1, number < header.checksumPage else { throw damaged("a page number") }
        let bytes = try file.read(count: IndexFileFormat.pageSize, at: number * IndexFileFormat.pageSize)
        guard bytes.count == IndexFileFormat.pageSize, CRC32.checksum(bytes) == pageChecksums[number - 1] else {
            throw damaged("page \(number)")
        }
        return bytes
    }

    private func damaged(_ what: String) -> TokenKitError {
        TokenKitError(
            .storeCorrupted,
            "The index file \(quoted(Self.path(forStore: storePath))) is damaged (\(what)); the store reads its log in its place."
        )
    }
}
