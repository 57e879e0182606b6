import Foundation
import Testing
import TokenKit
import TokenKitTesting
import UAPISupport

struct UAPITokensModuleTests {
    let module = UAPITokensModule(
        manager: TokenManager(store: InMemoryTokenStore(), configuration: .init(clock: ManualClock()))
    )

    func object(_ result: UAPIResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: result.body) as? [String: Any])
    }

    @Test func createListRenameRevoke() async throws {
        let created = try object(try await module.call("create_full_access", user: "alice", parameters: ["name": "ci"]))
        #expect(created["status"] as? Int == 1)
        let data = try #require(created["data"] as? [String: Any])
        #expect((data["token"] as? String)?.hasPrefix("tk_") == true)
        #expect(data["expires_at"] is NSNull)
        _ = try await module.call("rename", user: "alice", parameters: ["name": "ci", "new_name": "deploy"])
        let listed = try object(try await module.call("list", user: "alice", parameters: [:]))
        #expect((listed["data"] as? [[String: Any]])?.map { $0["name"] as? String } == ["deploy"])
        let revoked = try object(try await module.call("revoke", user: "alice", parameters: ["name": "deploy"]))
        #expect(revoked["data"] as? Int == 1)
    }

    /// An expiry past what any store keeps is cPanel's failed result, not a crash — and nothing
    /// unreadable is stored (issue 15's first defect).
    @Test(arguments: ["9223372036854775807", "-9223372036854775808", "99999999999999999999", "1e9", "-1"])
    func outOfRangeExpiriesAreRefused(_ expiresAt: String) async throws {
        let result = try object(
            try await module.call(
                "create_full_access",
                user: "alice",
                parameters: ["name": "x", "expires_at": expiresAt]
            )
        )
        #expect(result["status"] as? Int == 0)
        #expect((result["errors"] as? [String])?.first?.isEmpty == false)
        let listed = try object(try await module.call("list", user: "alice", parameters: [:]))
        #expect((listed["data"] as? [Any])?.isEmpty == true)
    }

    @Test func errorsUseCPanelsWording() async throws {
        let missing = try object(try await module.call("revoke", user: "alice", parameters: ["name": "nope"]))
        #expect((missing["errors"] as? [String]) == ["The API token \"nope\" does not exist."])
        let unknown = try object(try await module.call("frobnicate", user: "alice", parameters: [:]))
        #expect(
            (unknown["errors"] as? [String]) == ["The function \"frobnicate\" does not exist in the module \"Tokens\"."]
        )
    }

    @Test func formParametersDecode() {
        let parameters = FormParameters.decode(query: "name=a+b&x=%41", body: "name=c%20d&empty=")
        #expect(parameters == ["name": "c d", "x": "A", "empty": ""])
        #expect(FormParameters.decode(query: "=v&%zz=1", body: nil) == [:])
    }
}
