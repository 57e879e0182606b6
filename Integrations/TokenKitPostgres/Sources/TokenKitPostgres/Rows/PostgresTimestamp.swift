import Foundation
import PostgresNIO
import TokenKit

/// A `timestamptz` bound and read in PostgreSQL's own binary form — a 64-bit count of
/// microseconds since 2000-01-01 — so that every date TokenKit stores comes back exactly.
///
/// postgres-nio's own `Date` coding goes through a `Double` of seconds; converting with
/// ``TokenStoreRules`` instead keeps each whole microsecond of ``TokenStoreRules/dateRange``.
struct PostgresTimestamp: PostgresNonThrowingEncodable, PostgresDecodable, PostgresArrayEncodable,
    PostgresArrayDecodable, Sendable
{
    /// Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
    private static let epochOffset: Int64 = 946_684_800_000_000

    /// ``TokenStoreRules/dateRange`` in microseconds since 1970-01-01.
    private static let storableRange: ClosedRange<Int64> = 0...253_402_300_799_000_000

    /// Microseconds since 1970-01-01, inside ``TokenStoreRules/dateRange``.
    let microsecondsSince1970: Int64

    /// A timestamp for `date`.
    ///
    /// - Throws: ``TokenKitError/Code/invalidDate`` for a date a store cannot keep exactly
    ///   (``TokenStoreRules/checkDate(_:)``): it is refused, never rounded.
    init(_ date: Date) throws(TokenKitError) {
        try TokenStoreRules.checkDate(date)
        microsecondsSince1970 = try TokenStoreRules.microsecondsSince1970(date)
    }

    /// The date, exactly as it was written.
    var date: Date {
        get throws(TokenKitError) { try TokenStoreRules.date(microsecondsSince1970: microsecondsSince1970) }
    }

    static var psqlType: PostgresDataType { .timestamptz }
    static var psqlFormat: PostgresFormat { .binary }
    static var psqlArrayType: PostgresDataType { .timestamptzArray }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer,
        context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeInteger(microsecondsSince1970 - Self.epochOffset)
    }

    init<JSONDecoder: PostgresJSONDecoder>(
        from buffer: inout ByteBuffer,
        type: PostgresDataType,
        format: PostgresFormat,
        context: PostgresDecodingContext<JSONDecoder>
    ) throws {
        guard type == .timestamptz, format == .binary, buffer.readableBytes == 8,
            let value = buffer.readInteger(as: Int64.self)
        else {
            throw PostgresDecodingError.Code.typeMismatch
        }
        let (microseconds, overflow) = value.addingReportingOverflow(Self.epochOffset)
        // Outside the dates TokenKit writes (such as 'infinity'): not a value this store wrote.
        guard !overflow, Self.storableRange.contains(microseconds) else {
            throw PostgresDecodingError.Code.failure
        }
        microsecondsSince1970 = microseconds
    }
}
