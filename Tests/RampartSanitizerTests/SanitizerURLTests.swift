import XCTest
@testable import RampartSanitizerCore

final class SanitizerURLTests: XCTestCase {
    var policy: URLPolicy {
        var p = URLPolicy()
        p.schemes = ["https", "http"]
        p.hosts = ["allowed.com", "*.docs.example.org"]
        return p
    }

    func denied(_ url: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        guard case .denied(let reason) = policy.check(url) else { return XCTFail("\(url) was allowed", file: file, line: line) }
        XCTAssertTrue(reason.contains(fragment), "\(url): \(reason)", file: file, line: line)
    }

    func testUserinfoTrickResolvesToTheHostAfterTheLastAt() throws {
        XCTAssertEqual(try ParsedURL.parse("http://user@allowed.com@evil.com/x").host, "evil.com")
        denied("http://user@allowed.com@evil.com/x", "credentials")
        var lenient = policy
        lenient.allowUserinfo = true
        XCTAssertEqual(lenient.check("http://user@allowed.com@evil.com/x"), .denied("host evil.com is not in the allowlist"))
        XCTAssertEqual(lenient.check("https://allowed.com@evil.com"), .denied("host evil.com is not in the allowlist"))
        XCTAssertEqual(policy.check("https://allowed.com/path?q=1"), .allowed)
        XCTAssertEqual(policy.check("https://api.docs.example.org/"), .allowed)
        denied("https://docs.example.org/", "not in the allowlist")
        denied("https://allowed.com.evil.com/", "not in the allowlist")
        denied("https:\\\\evil.com\\x", "evil.com")
    }

    func testIPLiteralsAreRefusedInEverySpelling() {
        denied("https://93.184.216.34/", "IP-literal")
        denied("http://127.0.0.1/", "loopback")
        denied("http://2130706433/", "loopback")
        denied("http://0x7f.1/", "loopback")
        denied("http://0177.0.0.1/", "loopback")
        denied("http://127.1/", "loopback")
        denied("http://169.254.169.254/latest/meta-data", "link-local")
        denied("http://[::1]/", "loopback")
        denied("http://[fe80::1]/", "link-local")
        denied("http://10.0.0.1./", "private")
    }

    func testIPv6MappedPrivateAddressesAreRefused() {
        denied("https://[::ffff:10.0.0.1]/", "private 10.0.0.0/8")
        denied("https://[::ffff:a00:1]/", "private 10.0.0.0/8")
        denied("https://[::ffff:127.0.0.1]:443/", "loopback")
        denied("https://[64:ff9b::c0a8:101]/", "private 192.168.0.0/16")
        denied("https://[2002:c0a8:0101::1]/", "private 192.168.0.0/16")
    }

    func testSchemePortAndParseFailures() {
        denied("ftp://allowed.com/", "scheme")
        denied("javascript:alert(1)", "scheme")
        denied("https://allowed.com:8443/", "port 8443")
        denied("https://%65vil.com/", "evil.com")
        denied("https://exаmple.com/", "non-ASCII")
        denied("https://[::ffff:10.0.0.1/", "unparsable")
    }

    func testIPParsers() {
        XCTAssertEqual(IPAddress.parseIPv4("192.168.0.1"), .v4(0xC0A8_0001))
        XCTAssertEqual(IPAddress.parseIPv4("0xC0.0250.1"), .v4(0xC0A8_0001))
        XCTAssertNil(IPAddress.parseIPv4("256.1.1.1"))
        XCTAssertEqual(IPAddress.parseIPv6("::ffff:10.0.0.1")?.embeddedIPv4, 0x0A00_0001)
        XCTAssertNil(IPAddress.parseIPv6("1:2:3:4:5:6:7"))
        XCTAssertNil(IPAddress.parseIPv6("1::2::3"))
        XCTAssertNotNil(IPAddress.parseIPv6("2001:db8::1"))
    }

    func testToolCallURLsAreCheckedAgainstThePolicy() throws {
        var config = SanitizerConfig()
        config.urls = policy
        let sanitizer = try Sanitizer(config: config)
        let session = SanitizerSession()
        _ = try sanitizer.sanitize(RequestInput(prompt: "x", tools: [ToolDefinitionInput(name: "fetch", parameters: #"{"type":"object"}"#)]),
                                   session: session)
        var findings: [SanitizerFinding] = []
        for url in ["http://user@allowed.com@evil.com", "http://10.0.0.1/", "https://[::ffff:10.0.0.1]/"] {
            let call = ToolCallInput(name: "fetch", arguments: #"{"target": {"urls": ["\#(url)"]}}"#)
            XCTAssertThrowsError(try sanitizer.checkToolCall(call, session: session, findings: &findings)) { error in
                XCTAssertEqual((error as? SanitizerDenial)?.code, .url, url)
            }
        }
        XCTAssertNoThrow(try sanitizer.checkToolCall(ToolCallInput(name: "fetch", arguments: #"{"u":"https://allowed.com/a"}"#),
                                                     session: session, findings: &findings))
        XCTAssertTrue(policy.exported.contains("\"hosts\":[\"allowed.com\""))
    }
}
