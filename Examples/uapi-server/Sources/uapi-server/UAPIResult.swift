import Foundation
import Hummingbird

/// cPanel's UAPI result object:
/// `{"status":1,"errors":null,"messages":null,"warnings":null,"metadata":{},"data":…}`.
enum UAPIResult {
    /// A successful result carrying `data`.
    static func success(_ data: Any) -> Response {
        JSONResponse.make([
            "status": 1, "errors": NSNull(), "messages": NSNull(), "warnings": NSNull(),
            "metadata": [:] as [String: Any], "data": data,
        ])
    }

    /// A failed result: status 0, no data, and the errors for people.
    static func failure(_ errors: [String]) -> Response {
        JSONResponse.make([
            "status": 0, "errors": errors, "messages": NSNull(), "warnings": NSNull(), "metadata": [:] as [String: Any],
            "data": NSNull(),
        ])
    }
}

/// A 200 response whose body is `object` as JSON with sorted keys.
enum JSONResponse {
    static func make(_ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
