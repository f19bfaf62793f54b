import XCTest
@testable import RampartAuthCore

/// TOTP step-up on admin methods.
final class MFATests: XCTestCase {
    let admin = "rampart.v1.Admin/Reload"

    func fixture() throws -> (AuthFixture, String) {
        let f = try AuthFixture()
        _ = try f.engine.store.enrollTOTP(principalID: "ops", now: f.now)
        return (f, try f.token(for: f.key("ops")).token)
    }

    func testAdminRPCWithoutTOTP() throws {
        let (f, token) = try fixture()
        let outcome = f.authorize(admin, f.bearer(token))
        XCTAssertDenied(outcome, .unauthenticated, .mfaRequired)
        XCTAssertEqual(outcome.events.last?.kind, "mfa.failure")
    }

    func testAdminRPCWithAValidTOTPSucceedsOnce() throws {
        let (f, token) = try fixture()
        let code = try f.totpCode("ops")
        let ok = f.authorize(admin, f.bearer(token) + [("x-rampart-totp", .text(code))])
        guard case .success(.allowed(let p)) = ok.result else { return XCTFail("\(ok.result)") }
        XCTAssertEqual(p.id, "ops")
        XCTAssertEqual(ok.events.map(\.kind), ["mfa.success", "auth.success"])
        XCTAssertNoSecrets(ok, [code, token])
        let replay = f.authorize(admin, f.bearer(token) + [("x-rampart-totp", .text(code))])
        XCTAssertDenied(replay, .unauthenticated, .mfaReplayed)
        XCTAssertNoSecrets(replay, [code, token])
    }

    func testWrongTOTP() throws {
        let (f, token) = try fixture()
        let code = try f.totpCode("ops")
        let wrong = String(code.prefix(5)) + (code.hasSuffix("0") ? "1" : "0")
        let outcome = f.authorize(admin, f.bearer(token) + [("x-rampart-totp", .text(wrong))])
        XCTAssertDenied(outcome, .unauthenticated, .mfaInvalid)
        XCTAssertNoSecrets(outcome, [wrong, code])
        XCTAssertDenied(f.authorize(admin, f.bearer(token) + [("x-rampart-totp", .binary([1, 2]))]), .unauthenticated, .mfaInvalid)
    }

    func testTOTPReplayedAcrossASidecarRestart() throws {
        let (f, token) = try fixture()
        let code = try f.totpCode("ops")
        XCTAssertNotNil(f.authorize(admin, f.bearer(token) + [("x-rampart-totp", .text(code))]).value)
        try f.restart()
        XCTAssertDenied(f.authorize(admin, f.bearer(token) + [("x-rampart-totp", .text(code))]), .unauthenticated, .mfaReplayed)
    }

    func testAnEarlierCodeAfterALaterOneIsAReplay() throws {
        let (f, token) = try fixture()
        XCTAssertNotNil(f.authorize(admin, f.bearer(token) + [("x-rampart-totp", .text(try f.totpCode("ops", at: f.now + 30)))]).value)
        let previous = try f.totpCode("ops", at: f.now)
        XCTAssertDenied(f.authorize(admin, f.bearer(token) + [("x-rampart-totp", .text(previous))]), .unauthenticated, .mfaReplayed)
    }

    func testTOTPFromTwoStepsAgo() throws {
        let (f, token) = try fixture()
        let old = try f.totpCode("ops", at: f.now - 60)
        XCTAssertDenied(f.authorize(admin, f.bearer(token) + [("x-rampart-totp", .text(old))]), .unauthenticated, .mfaInvalid)
        let previous = try f.totpCode("ops", at: f.now - 30)
        XCTAssertNotNil(f.authorize(admin, f.bearer(token) + [("x-rampart-totp", .text(previous))]).value, "one step ago is fine")
    }

    func testNotEnrolledPrincipalCannotPassStepUp() throws {
        let f = try AuthFixture()
        let token = try f.token(for: f.key("ops")).token
        XCTAssertDenied(f.authorize(admin, f.bearer(token) + [("x-rampart-totp", .text("123456"))]), .unauthenticated, .mfaInvalid)
    }

    func testAnInferTokenCannotCallAdminMethodsEvenWithTOTP() throws {
        let f = try AuthFixture()
        let token = try f.token(for: f.key("ops"), scopes: ["infer"]).token
        let outcome = f.authorize("rampart.v1.Auth/CreateKey", f.bearer(token) + [("x-rampart-totp", .text("000000"))])
        XCTAssertDenied(outcome, .permissionDenied, .missingScope)
        XCTAssertEqual(outcome.denial?.message, "permission denied: missing scope \"admin\" for rampart.v1.Auth/CreateKey")
        XCTAssertNotNil(f.authorize("rampart.v1.Inference/GenerateStream", f.bearer(token)).value)
    }

    func testTOTPGuessingEngagesBackoffThenLockout() throws {
        let (f, token) = try fixture()
        var reasons: [ReasonClass] = []
        for i in 0..<40 {
            let guess = String(format: "%06d", i)
            f.now += 0.01
            reasons.append(f.authorize(admin, f.bearer(token) + [("x-rampart-totp", .text(guess))]).denial?.reason ?? .mfaInvalid)
        }
        XCTAssertTrue(reasons.contains(.backoff))
        XCTAssertEqual(reasons.last, .lockedOut)
        let code = try f.totpCode("ops")
        XCTAssertDenied(f.authorize(admin, f.bearer(token) + [("x-rampart-totp", .text(code))]), .unauthenticated, .lockedOut)
    }
}
