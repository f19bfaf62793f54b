import FuzzSupport
import RampartSanitizerCore

/// URL parsing and the URL allowlist of tool-call arguments: `ParsedURL.parse`, the IPv4/IPv6
/// literal parsers and range classification, `URLPolicy.check` under a strict and a permissive
/// policy, and the allowlist as the sanitizer config gives it (`"tools": {"urls": {"hosts": [...]}}`).
///
/// Input: `url` or `allowlist-pattern(s) 0x00 url` (patterns separated by newlines).
enum Harness {
    static let strict = URLPolicy()
    static let permissive: URLPolicy = {
        var policy = URLPolicy()
        policy.schemes = ["http", "https", "ftp", "ws", "wss"]
        policy.hosts = ["example.com", "*.example.org", "127.0.0.1", "[::1]"]
        policy.ports = [80, 443, 8080]
        policy.allowIPLiterals = true
        policy.allowUserinfo = true
        return policy
    }()

    static func run(_ input: inout FuzzInput) {
        let bytes = input.rest()
        var policies = [strict, permissive]
        let urlBytes: [UInt8]
        if let split = bytes.firstIndex(of: 0) {
            let patterns = pieces(Array(bytes[..<split]), separator: 0x0A).map(text)
            urlBytes = Array(bytes[(split + 1)...])
            // The allowlist as an operator writes it in the sanitizer config.
            let json = JSONValue.object(["tools": .object(["urls": .object([
                "hosts": .array(patterns.map { .string($0) }),
                "schemes": .array([.string("https"), .string("http")]),
                "ports": .array([.number(443), .number(8443)]),
            ])])]).serialized
            if let config = try? SanitizerConfig.parse(json) {
                policies.append(config.urls)
                _ = config.urls.exported
            }
            var direct = permissive
            direct.hosts = patterns
            policies.append(direct)
        } else {
            urlBytes = bytes
        }
        let url = text(urlBytes)
        if let parsed = try? ParsedURL.parse(url) {
            if let ip = parsed.ip { _ = ip.specialRange; _ = ip.embeddedIPv4; _ = ip.description }
            for policy in policies { _ = policy.check(parsed) }
        }
        for policy in policies {
            _ = policy.check(url)
            _ = policy.firstViolation(in: .array([.string(url), .object(["u": .string(url)])]))
        }
        if let v4 = IPAddress.parseIPv4(url) { _ = v4.specialRange; _ = v4.description }
        if let v6 = IPAddress.parseIPv6(url) { _ = v6.specialRange; _ = v6.embeddedIPv4; _ = v6.description }
        _ = IPAddress.endsInNumber(url)
    }
}

fuzzMain { Harness.run(&$0) }
