import XCTest
@testable import RampartSanitizerCore

final class SanitizerPIITests: XCTestCase {
    static let scanner = try? SensitiveDataScanner()

    func types(_ text: String) throws -> [String] {
        try XCTUnwrap(Self.scanner).scan(text).map(\.type)
    }

    func value(_ text: String) throws -> [String] {
        let bytes = Array(text.utf8)
        return try XCTUnwrap(Self.scanner).scan(bytes: bytes).map { String(decoding: bytes[$0.range], as: UTF8.self) }
    }

    func testChecksummedIdentifiersAreFoundAndBadChecksumsAreNot() throws {
        let positives: [(String, String)] = [
            ("card 4111 1111 1111 1111 exp", "CREDIT_CARD"), ("card 5500-0000-0000-0004", "CREDIT_CARD"),
            ("IBAN GB82 WEST 1234 5698 7654 32 thanks", "IBAN_CODE"), ("DE89370400440532013000", "IBAN_CODE"),
            ("ssn 536-22-1234", "US_SSN"), ("NINO AB 12 34 56 C", "UK_NINO"), ("DNI 12345678Z", "ES_NIF"),
            ("NIE X1234567L", "ES_NIE"), ("CF RSSMRA85T10A562S", "IT_FISCAL_CODE"), ("mail bob.smith+x@mail.example.co.uk", "EMAIL_ADDRESS"),
            ("call +44 20 7946 0958", "PHONE_NUMBER"), ("call (415) 555-0132", "PHONE_NUMBER"), ("host 81.2.69.160", "IP_ADDRESS"),
            ("v6 2001:db8:85a3::8a2e:370:7334", "IP_ADDRESS"), ("mac 00:1B:44:11:3A:B7", "MAC_ADDRESS"),
            ("pesel 44051401359", "PL_PESEL"), ("aadhaar 2341 2341 2346", "IN_AADHAAR"),
            ("hetu 131052-308T", "FI_PERSONAL_IDENTITY_CODE"), ("NRIC S1234567D", "SG_NRIC_FIN"),
        ]
        for (text, type) in positives {
            XCTAssertEqual(try types(text), [type], text)
        }
        let negatives = [
            "card 4111 1111 1111 1112", "IBAN GB82 WEST 1234 5698 7654 33", "ssn 000-12-3456", "ssn 666-12-3456", "NINO BG 12 34 56 C",
            "DNI 12345678A", "NIE X1234567A", "ip 256.1.1.1", "version 1.2.3.4.5", "mail info@example.", "time 10:30:00",
            "order 12345 shipped", "born 1985", "pesel 44051401358",
        ]
        for text in negatives {
            XCTAssertEqual(try types(text), [], text)
        }
    }

    func testAtLeastFortySecretKinds() {
        XCTAssertGreaterThanOrEqual(Set(SecretRules.all.map(\.type)).count, 40)
    }

    func testSecretFormats() throws {
        let alnum = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"  // 36 chars, synthetic
        let samples: [(String, String)] = [
            ("key AKIA" + "QWERTYUIOPASDFGH" + " end", "AWS_ACCESS_KEY"),
            ("token ghp_" + alnum, "GITHUB_TOKEN"),
            ("glpat-" + "abcdEFGH1234_ijklMNOP", "GITLAB_TOKEN"),
            ("xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx", "SLACK_TOKEN"),
            ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "STRIPE_API_KEY"),
            ("AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "GCP_API_KEY"),
            ("hf_" + "abcdefghijklmnopqrstuvwxyzABCDEFGH", "HUGGINGFACE_TOKEN"),
            ("sk-ant-api03-" + String(repeating: "Ab1_", count: 23), "ANTHROPIC_API_KEY"),
            ("npm_" + alnum, "NPM_TOKEN"),
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWhlcmUtMTIzNA", "JWT"),
            ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----", "PRIVATE_KEY"),
            ("db = postgres://admin:Sup3rS3cret!@db.internal:5432/app", "BASIC_AUTH_CREDENTIALS"),
            ("password = \"Tr0ub4dor&3x\"", "PASSWORD_OR_SECRET_ASSIGNMENT"),
            ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz1234ABCD", "AWS_SECRET_ACCESS_KEY"),
            ("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "SLACK_WEBHOOK"),
            ("123456789:AA" + "HdqTcvCH1vGWJxfSe1ofSAs0K5PALDsaw", "TELEGRAM_BOT_TOKEN"),
        ]
        for (text, type) in samples {
            let found = try types(text)
            XCTAssertTrue(found.contains(type), "\(type): \(found)")
        }
        // Only the value of an assignment is redacted.
        XCTAssertEqual(try value("password = \"Tr0ub4dor&3x\""), ["Tr0ub4dor&3x"])
        XCTAssertEqual(try value("db = postgres://admin:Sup3rS3cret!@db.internal"), ["Sup3rS3cret!"])
        for text in ["password = \"\"", "password: ${DB_PASSWORD}", "the password is required", "api_key = os.environ[\"KEY\"]",
                     "token = getToken()", "eyJhbGciOiJIUzI1NiJ9"] {
            XCTAssertEqual(try types(text), [], text)
        }
    }

    func testRedactionModes() throws {
        let text = "Mail alice@example.com and alice@example.com, card 4111 1111 1111 1111."
        var config = SanitizerConfig()
        config.redaction = .typed
        let typed = try Sanitizer(config: config).sanitize(RequestInput(prompt: text), session: SanitizerSession())
        XCTAssertEqual(typed.request.prompt, "Mail [EMAIL_ADDRESS_1] and [EMAIL_ADDRESS_1], card [CREDIT_CARD_1].")
        config.redaction = .mask
        let masked = try Sanitizer(config: config).sanitize(RequestInput(prompt: text), session: SanitizerSession())
        XCTAssertFalse(masked.request.prompt.contains("alice"))
        XCTAssertTrue(masked.request.prompt.contains("****"))
        config.piiAction = .deny
        XCTAssertThrowsError(try Sanitizer(config: config).sanitize(RequestInput(prompt: text), session: SanitizerSession())) { error in
            XCTAssertEqual((error as? SanitizerDenial)?.code, .pii)
            XCTAssertFalse("\(error)".contains("alice"), "a denial never quotes the value")
        }
    }

    func testReversiblePlaceholdersAreRestoredInThatRequestsOutputOnly() throws {
        var config = SanitizerConfig()
        config.redaction = .reversible
        config.canary = false
        let sanitizer = try Sanitizer(config: config)
        let session = SanitizerSession()
        let outcome = try sanitizer.sanitize(RequestInput(prompt: "Write to alice@example.com"), session: session)
        XCTAssertEqual(outcome.request.prompt, "Write to [EMAIL_ADDRESS_1]")
        let output = try sanitizer.checkOutput("Sent to [EMAIL_ADDRESS_1]. Also cc eve@evil.example.", session: session)
        XCTAssertEqual(output.text, "Sent to alice@example.com. Also cc [EMAIL_ADDRESS_2].")
        // Another request's session knows nothing.
        let other = try sanitizer.checkOutput("Sent to [EMAIL_ADDRESS_1].", session: SanitizerSession())
        XCTAssertEqual(other.text, "Sent to [EMAIL_ADDRESS_1].")
    }

    func testLogRedaction() throws {
        let sanitizer = try Sanitizer()
        XCTAssertEqual(sanitizer.redactForLogs("user bob@example.com used ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"),
                       "user [EMAIL_ADDRESS_1] used [GITHUB_TOKEN_1]")
    }

    /// Adversarial inputs for every rule: long runs of the characters each expression repeats.
    /// Hyperscan matches in one linear pass; the candidate cap bounds the validation work. Each
    /// input either scans (no findings) or is refused with the cap error; nothing hangs.
    func testRegexBombInputsAgainstEveryRuleAreBounded() throws {
        let scanner = try XCTUnwrap(Self.scanner)
        let n = 200_000
        let bombs = [
            String(repeating: "a", count: n), String(repeating: "1", count: n), String(repeating: "a@", count: n / 2),
            String(repeating: "a.", count: n / 2), String(repeating: "1 ", count: n / 2), String(repeating: "1-", count: n / 2),
            String(repeating: ":", count: n), String(repeating: "a:", count: n / 2), String(repeating: "eyJ", count: n / 3),
            String(repeating: "eyJa.", count: n / 5), String(repeating: "password=", count: n / 9), String(repeating: "-----BEGIN ", count: n / 11),
            String(repeating: "\"", count: n), String(repeating: "+1 ", count: n / 3), String(repeating: "http://a:b@", count: n / 11),
            String(repeating: "xoxb-", count: n / 5), String(repeating: "AKIA", count: n / 4), String(repeating: "sk-", count: n / 3),
            String(repeating: "1.", count: n / 2), String(repeating: "ab:", count: n / 3), String(repeating: "=", count: n),
        ]
        for bomb in bombs {
            do {
                let found = try scanner.scan(bomb)
                XCTAssertLessThan(found.count, n, "bounded result")
            } catch {
                XCTAssertTrue(error.message.contains("candidates"), "\(error)")
            }
        }
        // And the role markers and the schema pattern engine.
        XCTAssertFalse(try RoleMarkers().containsMarker(String(repeating: "<|im_", count: n / 5)))
    }
}

final class SanitizerRuleCompileTests: XCTestCase {
    func testEveryRuleCompilesOnItsOwn() {
        for rule in PIIRules.all + SecretRules.all {
            XCTAssertNoThrow(try PatternDatabase([PatternSpec(rule.expression, id: 0, caseless: rule.caseless)]), rule.type)
        }
    }
}
