import Foundation

/// The parameters of a UAPI call: the URL's query string and, for POST, the
/// `application/x-www-form-urlencoded` body; a body parameter wins over the query's.
public enum FormParameters {
    /// The largest form body read, in bytes.
    public static let maximumBodySize = 64 * 1024

    /// Decodes `query` (without the `?`) and `body`.
    public static func decode(query: String?, body: String?) -> [String: String] {
        var parameters = decode(query ?? "")
        parameters.merge(decode(body ?? "")) { _, body in body }
        return parameters
    }

    /// Decodes one `a=1&b=two+words` string; pairs that do not decode are skipped.
    static func decode(_ text: String) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = unescape(parts[0]), !key.isEmpty else { continue }
            parameters[key] = parts.count > 1 ? unescape(parts[1]) ?? "" : ""
        }
        return parameters
    }

    private static func unescape(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
