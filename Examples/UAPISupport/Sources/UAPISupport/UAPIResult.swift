import Foundation

/// cPanel's UAPI result object, as JSON with sorted keys:
/// `{"data":…,"errors":null,"messages":null,"metadata":{},"status":1,"warnings":null}`.
public struct UAPIResult: Sendable {
    /// The JSON body.
    public let body: Data
    /// Whether `status` is 1.
    public let succeeded: Bool

    /// The `Content-Type` of ``body``.
    public static let contentType = "application/json"

    /// A successful result carrying `data` (JSON-compatible values only).
    static func success(_ data: Any) -> UAPIResult {
        UAPIResult(
            object: [
                "status": 1, "errors": NSNull(), "messages": NSNull(), "warnings": NSNull(),
                "metadata": [:] as [String: Any], "data": data,
            ],
            succeeded: true
        )
    }

    /// A failed result: status 0, no data, and the errors for people.
    static func failure(_ errors: [String]) -> UAPIResult {
        UAPIResult(
            object: [
                "status": 0, "errors": errors, "messages": NSNull(), "warnings": NSNull(),
                "metadata": [:] as [String: Any], "data": NSNull(),
            ],
            succeeded: false
        )
    }

    private init(object: [String: Any], succeeded: Bool) {
        // Every value above is a string, number, array, dictionary or null, which
        // JSONSerialization always encodes; the fallback only keeps the type total.
        do {
            body = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        } catch {
            body = Data(
                #"{"data":null,"errors":["internal error"],"messages":null,"metadata":{},"status":0,"warnings":null}"#
                    .utf8
            )
        }
        self.succeeded = succeeded
    }
}
