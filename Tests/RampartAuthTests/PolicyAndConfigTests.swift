import XCTest
@testable import RampartAuthCore

/// RBAC table and configuration parsing.
final class PolicyAndConfigTests: XCTestCase {
    func testBuiltInTable() {
        let rbac = RBACPolicy()
        XCTAssertEqual(rbac.scope(for: "rampart.v1.Inference/Generate"), "infer")
        XCTAssertEqual(rbac.scope(for: "/rampart.v1.Inference/GenerateStream"), "infer")
        XCTAssertEqual(rbac.scope(for: "rampart.v1.Admin/Reload"), "admin")
        XCTAssertEqual(rbac.scope(for: "rampart.v1.Auth/CreateKey"), "admin")
        XCTAssertEqual(rbac.scope(for: "rampart.v1.Auth/IssueToken"), "public")
        XCTAssertEqual(rbac.scope(for: "rampart.v1.Health/Check"), "public")
        XCTAssertEqual(rbac.scope(for: "rampart.v1.Finetune/Start"), "finetune")
        XCTAssertEqual(rbac.scope(for: "acme.v1.Unknown/Thing"), "admin", "unknown methods fail closed")
        XCTAssertTrue(rbac.needsMFA(method: "rampart.v1.Models/Promote"))
        XCTAssertFalse(rbac.needsMFA(method: "rampart.v1.Inference/Generate"))
    }

    func testCustomRulesAndFeatureScopes() {
        let rbac = RBACPolicy(extra: ["acme.v1.Train/*": "finetune", "acme.v1.Train/Status": "infer", "rampart.v1.Health/Check": "ops:read"],
                              featureScopes: ["logit_bias": "infer:advanced"])
        XCTAssertEqual(rbac.scope(for: "acme.v1.Train/Run"), "finetune")
        XCTAssertEqual(rbac.scope(for: "acme.v1.Train/Status"), "infer", "the exact method wins")
        XCTAssertEqual(rbac.scope(for: "rampart.v1.Health/Check"), "ops:read", "config overrides the built-in rule")
        XCTAssertEqual(rbac.requiredScopes(method: "rampart.v1.Inference/Generate", features: ["logit_bias"]), ["infer", "infer:advanced"])
        XCTAssertEqual(rbac.requiredScopes(method: "rampart.v1.Inference/Generate", features: ["logprobs"]), ["infer"])
    }

    func testAFeatureNeedsItsScopeThroughTheEngine() throws {
        let f = try AuthFixture { $0.featureScopes = ["logit_bias": "infer:advanced"] }
        let key = try f.key()
        XCTAssertNotNil(f.authorize(f.bearer(key.key)).value)
        let outcome = f.authorize("rampart.v1.Inference/Generate", f.bearer(key.key), features: ["logit_bias"])
        XCTAssertDenied(outcome, .permissionDenied, .missingScope)
        XCTAssertEqual(outcome.denial?.message, "permission denied: missing scope \"infer:advanced\" for rampart.v1.Inference/Generate")
    }

    func testConfigParsesWithDefaults() throws {
        let config = try AuthConfig.parse(Array(#"{"db": "/tmp/x/auth.db"}"#.utf8))
        XCTAssertEqual(config.secretFile, "/tmp/x/auth.db.secret")
        XCTAssertEqual(config.signingKeyDir, "/tmp/x/signing-keys")
        XCTAssertEqual(config.tokenTTLSeconds, 900)
        XCTAssertEqual(config.effectiveSigningKeyOverlap, 3630)
    }

    func testConfigParsesEverySetting() throws {
        let json = """
            {"db": "/d/a.db", "secret_file": "/d/s", "signing_key_dir": "/d/k", "issuer": "i", "audience": "a",
             "token_ttl_seconds": 60, "max_token_ttl_seconds": 120, "leeway_seconds": 5, "signing_key_overlap_seconds": 10,
             "rotation_grace_seconds": 7, "trusted_peers": [{"uid": 0, "principal": "root"}],
             "rbac": {"acme.v1.X/*": "custom"}, "feature_scopes": {"logprobs": "infer:logprobs"}, "default_scope": "admin",
             "mfa_scopes": ["admin", "finetune"], "lockout": {"free_failures": 1, "lockout_after": 3},
             "token_cache_size": 5, "refresh_interval_ms": 0, "audit_successes": false, "max_credential_bytes": 1024}
            """
        let c = try AuthConfig.parse(Array(json.utf8))
        XCTAssertEqual(c.trustedPeers, [.init(uid: 0, principal: "root")])
        XCTAssertEqual(c.lockout.freeFailures, 1)
        XCTAssertEqual(c.lockout.lockoutAfter, 3)
        XCTAssertEqual(c.lockout.lockoutSeconds, 900)
        XCTAssertEqual(c.mfaScopes, ["admin", "finetune"])
        XCTAssertEqual(c.rbac, ["acme.v1.X/*": "custom"])
        XCTAssertFalse(c.auditSuccesses)
    }

    func testBadConfigsAreRefusedWithAPreciseMessage() {
        func message(_ json: String) -> String {
            do {
                _ = try AuthConfig.parse(Array(json.utf8))
                return "accepted"
            } catch {
                return error.message
            }
        }
        XCTAssertEqual(message(""), "the auth plugin needs a config with at least `db`")
        XCTAssertEqual(message("{}"), "missing required key `db`")
        XCTAssertEqual(message(#"{"db": "x", "isuer": "typo"}"#), "unknown config key(s): isuer")
        XCTAssertEqual(message(#"{"db": "x", "lockout": {"lockout_afer": 3}}"#), "unknown lockout key(s): lockout_afer")
        XCTAssertEqual(message(#"{"db": 5}"#), "db: wrong type")
        XCTAssertEqual(message(#"{"db": "x", "token_ttl_seconds": 7200}"#), "need 1 ≤ token_ttl_seconds ≤ max_token_ttl_seconds")
        XCTAssertEqual(message(#"{"db": "x", "rbac": {"NoSlash": "infer"}}"#), "rbac: \"NoSlash\" is not a method (service/Method or service/*)")
        XCTAssertTrue(message(#"{"db": "x", "lockout": {"free_failures": 10, "lockout_after": 5}}"#).hasPrefix("lockout:"))
        XCTAssertTrue(message("[1]").contains("table"))
    }
}
