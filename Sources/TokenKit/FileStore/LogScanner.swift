/// Reads the batches of a store file in bounded chunks and hands back each complete group.
///
/// It never trusts a length it has not checked: a batch counts only when its magic, length, part
/// number and CRC-32 are right, and a group only when all of its parts are.
struct LogScanner {
    /// Why a scan stopped.
    enum Stop: Equatable {
        /// It read everything up to the end it was given.
        case end
        /// The batch at this offset ends past the end of the file, or the file ends inside a group.
        /// After a crash this is a write cut short — unless a later group follows, in which case
        /// the batch's length field is damaged.
        case incomplete(offset: Int)
        /// A batch at this offset is damaged.
        case damaged(offset: Int)
        /// The batch at this offset has the right checksum but contents this version cannot
        /// decode. Its checksum proves it was written whole, so it is never a write cut short:
        /// it is corruption (or a forged file) wherever it lies, even last.
        case undecodable(offset: Int)
        /// The group at this offset is later than the last one published as durable: a commit under
        /// way, or one that failed or was cut short before it was published.
        case notDurable(offset: Int)
        /// Zeros where the next group's header would be (a whole header's worth, or every byte
        /// left when fewer remain): the log's end, in space the writer has preallocated. Like a
        /// write cut short, it is damage when a later group follows it, or inside the snapshot.
        case zeros(offset: Int)

        /// Whether this is zeros after the snapshot: the end of a log with preallocated space.
        func isZeros(after snapshotEnd: Int) -> Bool {
            if case .zeros(let offset) = self { offset >= snapshotEnd } else { false }
        }
    }

    /// What a scan found.
    struct Outcome {
        /// Where the scan stopped short of the end because of an incomplete or damaged batch.
        var problemOffset: Int? {
            switch stop {
            case .end, .notDurable: nil
            case .incomplete(let offset), .damaged(let offset), .undecodable(let offset), .zeros(let offset): offset
            }
        }

        /// The end of the last complete group.
        var committedEnd: Int
        /// The sequence number of the last complete group.
        var lastSequence: UInt64
        var stop: Stop
    }

    private static let chunkSize = 2 << 20

    private let file: POSIXFile
    private let end: Int
    /// Where the snapshot compaction wrote ends (its header says so), or 0 when the scan does not
    /// cover it. The snapshot was synced before the file was renamed into place, so it is never a
    /// write cut short: damage or an end before this offset is corruption.
    private let snapshotEnd: Int
    private var window: [UInt8] = []
    private var windowStart = 0
    /// How much the next refill of the window reads, at least.
    private var readSize = 2048

    init(file: POSIXFile, end: Int, snapshotEnd: Int = 0) {
        self.file = file
        self.end = end
        self.snapshotEnd = snapshotEnd
    }

    /// Reads complete groups from `start`, calling `apply` with each group's entries in order and
    /// the offset where the group starts (for an error that names it).
    ///
    /// - Parameters:
    ///   - lastSequence: The sequence of the group before `start`; later groups must have higher
    ///     ones.
    ///   - durableSequence: The last group to apply; the scan stops before a later one.
    mutating func scan(
        from start: Int,
        after lastSequence: UInt64,
        through durableSequence: UInt64 = .max,
        apply: (inout [LogEntry], _ groupStart: Int) throws(TokenKitError) -> Void
    ) throws(TokenKitError) -> Outcome {
        var outcome = Outcome(committedEnd: start, lastSequence: lastSequence, stop: .end)
        var offset = start
        var group: [LogEntry] = []
        var groupSequence: UInt64 = 0
        var groupStart = start
        var nextPart: UInt32 = 0
        // The snapshot's parts are applied as they are read, not gathered first: the snapshot is
        // complete or the file corrupt (a scan that stops inside it is reported as corruption),
        // and gathering a million records before applying them would double the memory an open
        // takes.
        var streaming = false
        while offset < end {
            if nextPart == 0, try isZeroHeader(at: offset) {
                outcome.stop = .zeros(offset: offset)
                return outcome
            }
            let batch: Batch
            switch try readBatch(at: offset) {
            case nil:
                outcome.stop = .incomplete(offset: offset)
                return outcome
            case .damaged:
                outcome.stop = .damaged(offset: offset)
                return outcome
            case .undecodable:
                outcome.stop = .undecodable(offset: offset)
                return outcome
            case .intact(let intact):
                batch = intact
            }
            if batch.part == 0 {
                guard nextPart == 0, batch.sequence > outcome.lastSequence else {
                    outcome.stop = .damaged(offset: offset)
                    return outcome
                }
                guard batch.sequence <= durableSequence else {
                    outcome.stop = .notDurable(offset: offset)
                    return outcome
                }
                groupSequence = batch.sequence
                groupStart = offset
                streaming = offset + batch.size < snapshotEnd
            } else {
                guard batch.part == nextPart, batch.sequence == groupSequence else {
                    outcome.stop = .damaged(offset: offset)
                    return outcome
                }
            }
            offset += batch.size
            if (batch.part == 0 && batch.isLastPart) || streaming {
                // The common case, a group of one batch, and the snapshot: applied without copying.
                var entries = batch.entries
                try apply(&entries, groupStart)
            } else {
                group += batch.entries
            }
            nextPart = batch.part + 1
            if batch.isLastPart {
                if !group.isEmpty { try apply(&group, groupStart) }
                group.removeAll(keepingCapacity: true)
                nextPart = 0
                outcome.committedEnd = offset
                outcome.lastSequence = groupSequence
            }
        }
        if nextPart != 0 { outcome.stop = .incomplete(offset: offset) }
        return outcome
    }

    /// Where `outcome` shows the file corrupt rather than cut short by a crash.
    struct Corruption {
        var offset: Int
        /// Whether it is a whole batch whose entries do not decode, rather than damage followed by
        /// a later group.
        var isUndecodable: Bool
    }

    /// Where `outcome` shows the file corrupt rather than cut short by a crash: an undecodable
    /// batch anywhere, or damage followed by a later group (``laterGroupExists(after:sequence:)``).
    /// `nil` when the scan ended cleanly or at what a crash can leave.
    mutating func corruption(in outcome: Outcome) throws(TokenKitError) -> Corruption? {
        switch outcome.stop {
        case .end, .notDurable:
            return nil
        case .undecodable(let offset):
            return Corruption(offset: offset, isUndecodable: true)
        case .incomplete(let offset), .damaged(let offset), .zeros(let offset):
            if offset < snapshotEnd { return Corruption(offset: offset, isUndecodable: false) }
            guard try laterGroupExists(after: offset, sequence: outcome.lastSequence) else { return nil }
            return Corruption(offset: offset, isUndecodable: false)
        }
    }

    /// Whether a whole batch of a group later than `sequence + 1` starts anywhere after `offset`:
    /// an intact one, or one whose checksum is right but whose entries do not decode.
    ///
    /// Groups are written one after another, each only once the previous one is on stable
    /// storage, so such a batch proves that the damage at `offset` is in a group that had been
    /// committed: corruption, not a write cut short by a crash.
    mutating func laterGroupExists(after offset: Int, sequence: UInt64) throws(TokenKitError) -> Bool {
        try firstWholeBatch(after: offset, countingUndecodable: true) { batchSequence, _ in
            batchSequence > sequence + 1
        } != nil
    }

    /// The offset where the next intact first part of a group starts after `offset`, if any: where
    /// salvage resumes after damage.
    mutating func nextGroupStart(after offset: Int) throws(TokenKitError) -> Int? {
        try firstWholeBatch(after: offset, countingUndecodable: false) { _, part in part == 0 }
    }

    /// The offset of the first whole batch after `offset` for which `matches` holds.
    ///
    /// Every position holding the batch magic is a candidate, and checking one means checksumming
    /// the payload it claims (up to 1 MiB). A real log has a candidate per batch, so the checks add
    /// up to about the file's size; a crafted file could put a fake header every 28 bytes and make
    /// the search quadratic. So the bytes checked are capped at twice what is left of the file
    /// plus 16 MiB: past that the search gives up with a ``TokenKitError/Code/storeCorrupted`` error
    /// instead of holding the writers' lock for minutes.
    ///
    /// - Parameters:
    ///   - countingUndecodable: Whether a batch whose checksum is right but whose entries do not
    ///     decode counts: it was written whole, which is what proving corruption needs, but it
    ///     holds nothing salvage could keep.
    ///   - matches: Whether the batch's sequence and part are the ones looked for.
    private mutating func firstWholeBatch(
        after offset: Int,
        countingUndecodable: Bool,
        where matches: (_ sequence: UInt64, _ part: UInt32) -> Bool
    ) throws(TokenKitError) -> Int? {
        var budget = 2 * max(0, end - offset) + 16 << 20
        var position = offset + 1
        while position + StoreFileFormat.batchHeaderSize <= end {
            guard let candidate = try nextMagic(from: position) else { return nil }
            let cost = StoreFileFormat.batchHeaderSize + claimedPayloadLength(at: candidate)
            budget -= cost
            bytesChecked += cost
            guard budget >= 0 else {
                throw TokenKitError(
                    .storeCorrupted,
                    "The token store \(quoted(file.path)) is damaged after offset \(offset) in a way that cannot be scanned in bounded time (a forged or badly damaged file). Restore it from a backup."
                )
            }
            switch try readBatch(at: candidate) {
            case .intact(let batch) where matches(batch.sequence, batch.part):
                return candidate
            case .undecodable(let sequence, let part) where countingUndecodable && matches(sequence, part):
                return candidate
            default:
                break
            }
            position = candidate + 1
        }
        return nil
    }

    /// The payload length the header at `offset` claims, within what the file holds; 0 when the
    /// header is not readable.
    private mutating func claimedPayloadLength(at offset: Int) -> Int {
        // Ignoring the error is safe: a header that cannot be read costs nothing to check.
        let length = try? bytes(at: offset, count: StoreFileFormat.batchHeaderSize) { header -> Int in
            Int(header.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
        }
        return min(length.flatMap { $0 } ?? 0, StoreFileFormat.maximumPayload, max(0, end - offset))
    }

    /// Bytes checked so far by searches past damage, for tests of the bound.
    private(set) var bytesChecked = 0
    /// Bytes read from the file so far, for tests of the bound.
    private(set) var bytesRead = 0

    /// Whether a batch header's worth of zeros starts at `offset`, or zeros fill what is left of
    /// the file when it is shorter than a header.
    mutating func isZeroHeader(at offset: Int) throws(TokenKitError) -> Bool {
        let count = min(StoreFileFormat.batchHeaderSize, end - offset)
        guard count > 0 else { return false }
        return try bytes(at: offset, count: count) { $0.allSatisfy { $0 == 0 } } ?? false
    }

    // MARK: Batches

    private struct Batch {
        var size: Int
        var sequence: UInt64
        var part: UInt32
        var isLastPart: Bool
        var entries: [LogEntry]
    }

    /// A batch as read.
    private enum ReadBatch {
        case intact(Batch)
        /// A header or checksum is wrong.
        case damaged
        /// The checksum is right but the entries do not decode.
        case undecodable(sequence: UInt64, part: UInt32)
    }

    /// Reads the batch at `offset`; `nil` when the file ends before the batch does.
    private mutating func readBatch(at offset: Int) throws(TokenKitError) -> ReadBatch? {
        let headerSize = StoreFileFormat.batchHeaderSize
        guard let header = try bytes(at: offset, count: headerSize, { Self.parseHeader($0) }) else { return nil }
        guard let header else { return .damaged }
        let size = headerSize + header.length
        guard let payload = try bytes(at: offset, count: size, { Self.parsePayload($0, crc: header.crc) }) else {
            return nil
        }
        switch payload {
        case .checksumMismatch:
            return .damaged
        case .undecodable:
            return .undecodable(sequence: header.sequence, part: header.part)
        case .entries(let entries):
            return .intact(
                Batch(
                    size: size,
                    sequence: header.sequence,
                    part: header.part,
                    isLastPart: header.flags & StoreFileFormat.lastPartFlag != 0,
                    entries: entries
                )
            )
        }
    }

    private struct BatchHeader {
        var length: Int
        var sequence: UInt64
        var part: UInt32
        var flags: UInt32
        var crc: UInt32
    }

    /// The batch header in `bytes`, or `nil` when they are not one.
    private static func parseHeader(_ bytes: UnsafeRawBufferPointer) -> BatchHeader? {
        // `try?` is safe here: the only error is ByteReader.Malformed (too few bytes), which means
        // "not a batch header" — exactly what `nil` tells the caller, who treats it as damage.
        var reader = ByteReader(bytes)
        guard let magic = try? reader.u32(), magic == StoreFileFormat.batchMagic,
            let length = try? reader.u32(), length <= StoreFileFormat.maximumPayload,
            let sequence = try? reader.u64(), let part = try? reader.u32(), let flags = try? reader.u32(),
            flags & ~StoreFileFormat.lastPartFlag == 0, let crc = try? reader.u32()
        else { return nil }
        return BatchHeader(length: Int(length), sequence: sequence, part: part, flags: flags, crc: crc)
    }

    /// A batch's payload as read.
    private enum Payload {
        case entries([LogEntry])
        case checksumMismatch
        case undecodable
    }

    /// The entries of a whole batch, or why there are none.
    private static func parsePayload(_ bytes: UnsafeRawBufferPointer, crc: UInt32) -> Payload {
        let headerSize = StoreFileFormat.batchHeaderSize
        var computed = CRC32.update(0, UnsafeRawBufferPointer(rebasing: bytes[4..<headerSize - 4]))
        computed = CRC32.update(computed, UnsafeRawBufferPointer(rebasing: bytes[headerSize...]))
        guard computed == crc else { return .checksumMismatch }
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[headerSize...]))
        var entries: [LogEntry] = []
        while !reader.isAtEnd {
            do {
                entries.append(try LogEntry.decode(from: &reader))
            } catch {
                // A malformed entry makes the whole batch undecodable, which the caller is told.
                return .undecodable
            }
        }
        return .entries(entries)
    }

    // MARK: Reading

    /// Calls `body` with `count` bytes at `offset`; `nil` when they reach past the end.
    private mutating func bytes<T>(
        at offset: Int,
        count: Int,
        _ body: (UnsafeRawBufferPointer) -> T
    ) throws(TokenKitError) -> T? {
        guard offset + count <= end else { return nil }
        if offset < windowStart || offset + count > windowStart + window.count {
            // The first read is small, as a catch-up reads a commit or two before the zeros of
            // preallocated space; a scan that goes on reads ever larger chunks.
            readSize = min(readSize * 2, Self.chunkSize)
            let length = min(max(count, readSize), end - offset)
            if window.count != length { window = [UInt8](repeating: 0, count: length) }
            let file = self.file
            let read = try window.withUnsafeMutableBytes { buffer in
                Result { () throws(TokenKitError) in try file.read(into: buffer, at: offset) }
            }.get()
            bytesRead += read
            windowStart = offset
            if read < length { window.removeLast(length - read) }
            guard read >= count else { return nil }
        }
        return window.withUnsafeBytes {
            body(UnsafeRawBufferPointer(rebasing: $0[(offset - windowStart)...].prefix(count)))
        }
    }

    /// The offset of the next batch magic at or after `position`.
    private mutating func nextMagic(from position: Int) throws(TokenKitError) -> Int? {
        let magic: [UInt8] = [0x54, 0x4B, 0x42, 0x31]
        var position = position
        while position + 4 <= end {
            // Search what the window already holds before reading on: a search that checks one
            // candidate after another must not read a fresh chunk for each.
            let held = windowStart + window.count - position
            let count = position >= windowStart && held >= 4 ? held : min(Self.chunkSize, end - position)
            let found = try bytes(at: position, count: count) { bytes -> Int? in
                guard bytes.count >= 4 else { return nil }
                for index in 0...(bytes.count - 4)
                where bytes[index] == magic[0] && bytes[index + 1] == magic[1] && bytes[index + 2] == magic[2]
                    && bytes[index + 3] == magic[3]
                {
                    return index
                }
                return nil
            }
            guard let found else { return nil }
            if let index = found { return position + index }
            position += max(1, count - 3)
        }
        return nil
    }
}
