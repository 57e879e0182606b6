import Foundation
import TokenKit

/// Parses the values `tokenctl` accepts for dates, durations and addresses.
enum Arguments {
    /// `2027-01-31` (the end of that day, 23:59:59 UTC, as cPanel's form means it),
    /// `2027-01-31T23:59:59Z` (any ISO 8601 date and time with a zone), or Unix seconds.
    static func date(_ text: String) throws -> Date {
        if !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), let seconds = Int(text) {
            return Date(timeIntervalSince1970: TimeInterval(seconds))
        }
        if text.count == 10, let day = try? Date(text + "T23:59:59Z", strategy: .iso8601) {
            return day
        }
        if let date = try? Date(text, strategy: .iso8601) {
            return date
        }
        throw CommandFailure(
            message: "\"\(text)\" is not a date; use 2027-01-31, 2027-01-31T23:59:59Z or Unix seconds."
        )
    }

    /// `90d`, `12h`, `30m`, `45s` or `2w`.
    static func duration(_ text: String) throws -> Duration {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        guard let unit = text.last, let seconds = units[unit], let count = Int64(text.dropLast()), count >= 0,
            text.dropLast().allSatisfy(\.isNumber)
        else {
            throw CommandFailure(
                message: "\"\(text)\" is not a duration; use a whole number and a unit, such as 90d, 12h or 30m."
            )
        }
        let (total, overflow) = count.multipliedReportingOverflow(by: seconds)
        guard !overflow else { throw CommandFailure(message: "\"\(text)\" is too long a duration.") }
        return .seconds(total)
    }

    static func address(_ text: String) throws -> IPAddress {
        guard let address = IPAddress(text) else {
            throw CommandFailure(message: "\"\(text)\" is not an IPv4 or IPv6 address.")
        }
        return address
    }
}
