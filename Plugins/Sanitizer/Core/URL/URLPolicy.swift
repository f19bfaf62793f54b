/// The URL and connector allowlist for tool arguments.
///
/// Every string argument of a tool call that parses as a URL with a scheme and authority is
/// checked: scheme allowed, host allowed (exact name or `*.suffix`), port allowed, no userinfo
/// unless allowed, IP literals refused unless allowed, and addresses in private, loopback,
/// link-local and other special ranges refused in every spelling (decimal, octal, hex IPv4,
/// IPv4-mapped/compatible/NAT64/6to4 IPv6).
///
/// Redirects are not seen here: the tool that fetches must re-check every redirect target (and
/// the address its name resolves to) against the same policy. ``exported`` gives the policy as
/// JSON for such tools.
public struct URLPolicy: Sendable, Equatable {
    /// Allowed schemes (lower case).
    public var schemes: Set<String> = ["https"]
    /// Allowed hosts: exact names or `*.example.com` (any subdomain, not the apex).
    public var hosts: [String] = []
    /// Allowed ports; empty means only the scheme's default port.
    public var ports: Set<Int> = []
    /// Whether IP-literal hosts may be used at all (public addresses only).
    public var allowIPLiterals = false
    /// Whether special-purpose addresses (private, loopback, …) may be used. Never by default.
    public var allowPrivateAddresses = false
    /// Whether `user:password@` may appear.
    public var allowUserinfo = false
    /// Allowed tool names (connectors); empty means any tool that has a definition.
    public var tools: Set<String> = []

    public init() {}

    /// The outcome of a check.
    public enum Decision: Sendable, Equatable {
        case allowed
        case denied(String)
    }

    /// Checks one URL string.
    public func check(_ url: String) -> Decision {
        if let colon = url.firstIndex(of: ":") {
            let scheme = url[..<colon].trimmingSpacesSubstring.lowercased()
            if !scheme.isEmpty, !schemes.contains(scheme) { return .denied("scheme \(scheme) is not allowed") }
        }
        let parsed: ParsedURL
        do {
            parsed = try ParsedURL.parse(url)
        } catch {
            return .denied("unparsable URL: \(error.message)")
        }
        return check(parsed)
    }

    /// Checks a parsed URL.
    public func check(_ url: ParsedURL) -> Decision {
        guard schemes.contains(url.scheme) else { return .denied("scheme \(url.scheme) is not allowed") }
        if url.userinfo != nil && !allowUserinfo { return .denied("credentials (userinfo) in the URL are not allowed") }
        if let ip = url.ip {
            if let range = ip.specialRange, !allowPrivateAddresses { return .denied("address \(url.host) is \(range)") }
            if !allowIPLiterals && !hosts.contains(url.host) { return .denied("IP-literal host \(url.host) is not allowed") }
        } else if !hostAllowed(url.host) {
            return .denied("host \(url.host) is not in the allowlist")
        }
        if let port = url.port {
            let defaultPort = ParsedURL.defaultPorts[url.scheme]
            if ports.isEmpty ? port != defaultPort : !ports.contains(port) { return .denied("port \(port) is not allowed") }
        }
        return .allowed
    }

    func hostAllowed(_ host: String) -> Bool {
        hosts.contains { pattern in
            let p = pattern.lowercased()
            if p.hasPrefix("*.") { return host.hasSuffix(String(p.dropFirst(1))) && host.count > p.count - 1 }
            return host == p
        }
    }

    /// The URLs inside a tool call's arguments: every string value (at any depth) that contains
    /// `://` or starts with a scheme of ``schemes`` or `http:`/`https:`.
    public static func urls(in value: JSONValue) -> [String] {
        var out: [String] = []
        var stack: [JSONValue] = [value]
        while let item = stack.popLast() {
            switch item {
            case .string(let s):
                let trimmed = s.trimmingSpaces
                let lower = trimmed.prefix(8).lowercased()
                if trimmed.contains("://") || lower.hasPrefix("http:") || lower.hasPrefix("https:") || lower.hasPrefix("ftp:")
                    || lower.hasPrefix("file:") || lower.hasPrefix("ws:") || lower.hasPrefix("wss:") {
                    out.append(trimmed)
                }
            case .array(let a): stack.append(contentsOf: a)
            case .object(let o): stack.append(contentsOf: o.values)
            default: break
            }
        }
        return out
    }

    /// The first denied URL in `arguments`, with the reason.
    public func firstViolation(in arguments: JSONValue) -> (url: String, reason: String)? {
        for url in Self.urls(in: arguments) {
            if case .denied(let reason) = check(url) { return (url, reason) }
        }
        return nil
    }

    /// The policy as JSON, for fetching tools that must apply it to redirects and resolved
    /// addresses.
    public var exported: String {
        JSONValue.object([
            "schemes": .array(schemes.sorted().map { .string($0) }),
            "hosts": .array(hosts.map { .string($0) }),
            "ports": .array(ports.sorted().map { .number(Double($0)) }),
            "allow_ip_literals": .bool(allowIPLiterals),
            "allow_private_addresses": .bool(allowPrivateAddresses),
            "allow_userinfo": .bool(allowUserinfo),
            "tools": .array(tools.sorted().map { .string($0) }),
        ]).serialized
    }
}

extension Substring {
    var trimmingSpacesSubstring: String { String(self).trimmingSpaces }
}
