import XCTest
@testable import RampartThrottleCore

final class ConfigTests: XCTestCase {
    private func error(_ text: String) -> ThrottleConfigError? {
        do {
            _ = try ThrottleConfig.parse(Array(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    /// Bad input: negative or zero limits are refused at start with the key named.
    func testZeroAndNegativeLimitsAreRefusedNamingTheKey() {
        XCTAssertEqual(error(#"{"limits": {"key": {"requests": {"rate": 0}}}}"#),
                       ThrottleConfigError(path: "limits.key.requests.rate", "must be greater than 0, got 0"))
        XCTAssertEqual(error(#"{"limits": {"user": {"tokens": {"rate": -5, "period_ms": 1000}}}}"#),
                       ThrottleConfigError(path: "limits.user.tokens.rate", "must be greater than 0, got -5"))
        XCTAssertEqual(error(#"{"limits": {"org": {"requests": {"rate": 5, "period_ms": 0}}}}"#),
                       ThrottleConfigError(path: "limits.org.requests.period_ms", "must be greater than 0, got 0"))
        XCTAssertEqual(error(#"{"limits": {"key": {"tokens": {"rate": 5, "burst": -1}}}}"#),
                       ThrottleConfigError(path: "limits.key.tokens.burst", "must not be negative, got -1"))
        XCTAssertEqual(error(#"{"limits": {"concurrency": 0}}"#),
                       ThrottleConfigError(path: "limits.concurrency", "must be greater than 0, got 0"))
        XCTAssertEqual(error(#"{"concurrency": {"pool": -2}}"#),
                       ThrottleConfigError(path: "concurrency.pool", "must be greater than 0, got -2"))
        XCTAssertEqual(error("[[roles]]\nname = \"batch\"\n[roles.key.requests]\nrate = -1\n"),
                       ThrottleConfigError(path: "roles[0].key.requests.rate", "must be greater than 0, got -1"))
        XCTAssertEqual(error(#"{"limits": {"key": {"requests": {"rate": 5}}}, "tokens": {"min_completion_tokens": 0}}"#)?.path,
                       "tokens.min_completion_tokens")
    }

    func testUnknownKeysAndWrongTypesAreRefused() {
        XCTAssertEqual(error(#"{"limits": {"key": {"request": {"rate": 5}}}}"#),
                       ThrottleConfigError(path: "limits.key.request", "unknown key"))
        XCTAssertEqual(error(#"{"mode": "cluster"}"#)?.path, "mode")
        XCTAssertEqual(error(#"{"limits": {"key": {"requests": {"rate": "5"}}}}"#),
                       ThrottleConfigError(path: "limits.key.requests.rate", "expected an integer, got string \"5\""))
        XCTAssertEqual(error(#"{"limits": {"key": {"requests": {"rate": 2.5}}}}"#)?.path, "limits.key.requests.rate")
        XCTAssertEqual(error(#"{"redis": {"port": 70000}}"#)?.path, "redis.port")
        XCTAssertEqual(error(#"{"redis": {"fail_mode": "maybe"}}"#)?.path, "redis.fail_mode")
        XCTAssertEqual(error("not = [valid"), error("not = [valid"))
        XCTAssertNotNil(error("not = [valid"))
        XCTAssertEqual(error(#"{"limits": {"key": {"requests": {"rate": 3000000, "period_ms": 1}}}}"#)?.path,
                       "limits.key.requests.rate")
        XCTAssertEqual(error(#"{"limits": {"key": {"requests": {"rate": 1, "period_ms": 1000, "burst": 9223372036854775807}}}}"#)?.path,
                       "limits.key.requests.burst")
        XCTAssertEqual(error(#"{"roles": [{"name": "a"}, {"name": "a"}]}"#)?.path, "roles[1].name")
    }

    func testJSONAndTOMLGiveTheSameConfig() throws {
        let json = #"""
        {"mode": "redis", "limits": {"key": {"requests": {"rate": 60, "period_ms": 60000, "burst": 9},
                                             "tokens": {"rate": 100000, "period_ms": 60000}},
                                     "org": {"tokens": {"rate": 1000000, "period_ms": 60000}}, "concurrency": 4},
         "roles": [{"name": "batch", "key": {"requests": {"rate": 600, "period_ms": 60000}}, "weight": 1},
                   {"name": "interactive", "weight": 4}],
         "tokens": {"max_tokens_policy": "refuse", "max_tokens_ceiling": 8192},
         "concurrency": {"pool": 16, "queue": "wait", "max_wait_ms": 200},
         "adaptive": {"ramp_ms": 86400000, "ramp_start_fraction": 0.25},
         "redis": {"host": "10.0.0.2", "port": 6380, "fail_mode": "open"}}
        """#
        let toml = """
            mode = "redis"
            [limits]
            concurrency = 4
            [limits.key.requests]
            rate = 60
            period_ms = 60000
            burst = 9
            [limits.key.tokens]
            rate = 100000
            period_ms = 60000
            [limits.org.tokens]
            rate = 1000000
            period_ms = 60000
            [[roles]]
            name = "batch"
            weight = 1
            [roles.key.requests]
            rate = 600
            period_ms = 60000
            [[roles]]
            name = "interactive"
            weight = 4
            [tokens]
            max_tokens_policy = "refuse"
            max_tokens_ceiling = 8192
            [concurrency]
            pool = 16
            queue = "wait"
            max_wait_ms = 200
            [adaptive]
            ramp_ms = 86400000
            ramp_start_fraction = 0.25
            [redis]
            host = "10.0.0.2"
            port = 6380
            fail_mode = "open"
            """
        let a = try ThrottleConfig.parse(Array(json.utf8))
        let b = try ThrottleConfig.parse(Array(toml.utf8))
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.defaults.key.requests, RateLimit(rate: 60, periodMicros: 60_000_000, burst: 9))
        XCTAssertEqual(a.defaults.key.tokens?.burst, 99_999)  // burst defaults to rate − 1
        // A role replaces only what it sets.
        let batch = a.limits(forScopes: ["read", "batch"])
        XCTAssertEqual(batch.role, "batch")
        XCTAssertEqual(batch.limits.key.requests?.rate, 600)
        XCTAssertEqual(batch.limits.key.tokens, a.defaults.key.tokens)
        XCTAssertEqual(a.limits(forScopes: ["interactive"]).limits.weight, 4)
        XCTAssertEqual(a.limits(forScopes: []).role, "default")
        XCTAssertEqual(a.redis.failMode, .open)
        XCTAssertEqual(a.concurrency.maxWaitMicros, 200_000)
    }

    /// Found by fuzzing (scripts/fuzz.sh config, docs/FUZZING.md): TOML shapes on which toml++
    /// asserts (an abort in debug builds, undefined behaviour in release) instead of reporting a
    /// syntax error must be refused cleanly here too, as the sidecar's own config loader does.
    func testTOMLThatTomlPlusPlusAssertsOnIsRefusedCleanly() {
        let inputs = [
            // the fuzzer's minimised input (after the harness's mode byte): a table header whose
            // first character cannot start a key
            String(decoding: [0x5B, 0x7B, 0x27] as [UInt8], as: UTF8.self),
            "mode = \"local\"\n[limits]\nconcurrency = 3\n[\u{01}{\"lim",
            "[.a]\n", "[[ =x]]\nrate = 1\n", "limits = [1, }\n", "a = 2020-01-01T:\n",
        ]
        for text in inputs {
            guard let refused = error(text) else { return XCTFail("accepted: \(text.debugDescription)") }
            XCTAssertTrue(refused.reason.contains("TOML"), refused.description)
        }
    }

    func testEmptyConfigIsTheDefault() throws {
        XCTAssertEqual(try ThrottleConfig.parse([]), ThrottleConfig())
        XCTAssertEqual(try ThrottleConfig.parse(Array("  \n".utf8)), ThrottleConfig())
    }

    /// The plugin reads only the parts of a principal some limit uses.
    func testPrincipalPartsFollowTheConfiguredLimits() throws {
        let keyOnly = try ThrottleConfig.parse(Array(#"{"limits": {"key": {"requests": {"rate": 5, "period_ms": 1000}}}}"#.utf8))
        XCTAssertTrue(keyOnly.principalParts == (user: false, org: false, scopes: false))
        let withUser = try ThrottleConfig.parse(Array(#"{"limits": {"user": {"tokens": {"rate": 5, "period_ms": 1000}}}}"#.utf8))
        XCTAssertTrue(withUser.principalParts == (user: true, org: false, scopes: false))
        let roleOrg = try ThrottleConfig.parse(Array(#"""
            {"roles": [{"name": "batch", "org": {"requests": {"rate": 5, "period_ms": 1000}}}]}
            """#.utf8))
        XCTAssertTrue(roleOrg.principalParts == (user: false, org: true, scopes: true))
    }
}
