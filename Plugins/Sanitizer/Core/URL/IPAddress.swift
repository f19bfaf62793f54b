/// IP address parsing as URL parsers do it (WHATWG URL Standard "IPv4 parser" and "IPv6
/// parser"), so that every spelling a fetcher would accept is recognised: `127.1`, `2130706433`,
/// `0x7f.0.0.1`, `0177.0.0.1`, `[::ffff:10.0.0.1]`, `[::ffff:a00:1]`.
public enum IPAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    case v6([UInt16])

    public var description: String {
        switch self {
        case .v4(let a): "\(a >> 24).\(a >> 16 & 0xFF).\(a >> 8 & 0xFF).\(a & 0xFF)"
        case .v6(let p): p.map { String($0, radix: 16) }.joined(separator: ":")
        }
    }

    /// WHATWG IPv4 parsing: 1–4 dot-separated parts, each decimal, octal (leading 0) or hex
    /// (0x); the last part fills the remaining bytes. Nil when `host` is not an IPv4 literal.
    public static func parseIPv4(_ host: String) -> IPAddress? {
        var parts = host.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" && parts.count > 1 { parts.removeLast() }
        guard (1...4).contains(parts.count) else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            guard !part.isEmpty else { return nil }
            var digits = Substring(part)
            var radix = 10
            if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
                digits = digits.dropFirst(2)
                radix = 16
            } else if digits.count > 1 && digits.hasPrefix("0") {
                digits = digits.dropFirst()
                radix = 8
            }
            if digits.isEmpty { numbers.append(0); continue }
            guard digits.count <= 20, let n = UInt64(digits, radix: radix) else { return nil }
            numbers.append(n)
        }
        for n in numbers.dropLast() where n > 255 { return nil }
        guard let last = numbers.last, last < (UInt64(1) << (8 * (5 - numbers.count))) else { return nil }
        var address = last
        for (index, n) in numbers.dropLast().enumerated() { address += n << (8 * (3 - index)) }
        return .v4(UInt32(truncatingIfNeeded: address))
    }

    /// Whether `host` ends in a number (WHATWG: such hosts must parse as IPv4 or are invalid).
    public static func endsInNumber(_ host: String) -> Bool {
        var parts = host.split(separator: ".", omittingEmptySubsequences: false)
        if parts.last == "" && parts.count > 1 { parts.removeLast() }
        guard let last = parts.last, !last.isEmpty else { return false }
        if last.allSatisfy({ $0.isASCII && $0.isNumber }) { return true }
        let lower = last.lowercased()
        return lower.hasPrefix("0x") && lower.dropFirst(2).allSatisfy { $0.isHexDigit }
    }

    /// IPv6 text (without brackets), with `::` and an embedded dotted IPv4 tail.
    public static func parseIPv6(_ text: String) -> IPAddress? {
        guard text.utf8.count <= 45, text.contains(":") else { return nil }
        var head: [UInt16] = [], tail: [UInt16] = []
        let halves = text.components(separatedByString: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String, allowIPv4: Bool) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            let items = s.split(separator: ":", omittingEmptySubsequences: false)
            for (index, item) in items.enumerated() {
                if index == items.count - 1, allowIPv4, item.contains(".") {
                    // Dotted quad: strictly four decimal parts here.
                    let quads = item.split(separator: ".", omittingEmptySubsequences: false)
                    guard quads.count == 4 else { return nil }
                    var bytes: [UInt16] = []
                    for q in quads {
                        guard (1...3).contains(q.count), q.allSatisfy({ $0.isASCII && $0.isNumber }), let v = UInt16(q), v <= 255,
                              q.count == 1 || !q.hasPrefix("0") else { return nil }
                        bytes.append(v)
                    }
                    out.append(bytes[0] << 8 | bytes[1])
                    out.append(bytes[2] << 8 | bytes[3])
                    continue
                }
                guard (1...4).contains(item.count), let v = UInt16(item, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        if halves.count == 2 {
            guard let h = groups(halves[0], allowIPv4: false), let t = groups(halves[1], allowIPv4: true) else { return nil }
            head = h
            tail = t
            guard head.count + tail.count <= 7 else { return nil }
            return .v6(head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail)
        }
        guard let all = groups(text, allowIPv4: true), all.count == 8 else { return nil }
        return .v6(all)
    }

    /// The IPv4 address an IPv6 address carries (IPv4-mapped ::ffff:0:0/96, IPv4-compatible
    /// ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16), if any.
    public var embeddedIPv4: UInt32? {
        guard case .v6(let p) = self else { return nil }
        let low = UInt32(p[6]) << 16 | UInt32(p[7])
        if p[0..<5].allSatisfy({ $0 == 0 }) && (p[5] == 0xFFFF || (p[5] == 0 && low > 1)) { return low }
        if p[0] == 0x64 && p[1] == 0xFF9B && p[2..<6].allSatisfy({ $0 == 0 }) { return low }
        if p[0] == 0x2002 { return UInt32(p[1]) << 16 | UInt32(p[2]) }
        return nil
    }

    /// The special-purpose range the address belongs to (RFC 6890 and successors), or nil for a
    /// public unicast address. Embedded IPv4 addresses are classified as IPv4.
    public var specialRange: String? {
        switch self {
        case .v4(let a):
            func inRange(_ base: UInt32, _ bits: UInt32) -> Bool { bits == 0 || a >> (32 - bits) == base >> (32 - bits) }
            if inRange(0x0000_0000, 8) { return "this-network 0.0.0.0/8" }
            if inRange(0x0A00_0000, 8) { return "private 10.0.0.0/8" }
            if inRange(0x6440_0000, 10) { return "shared CGNAT 100.64.0.0/10" }
            if inRange(0x7F00_0000, 8) { return "loopback 127.0.0.0/8" }
            if inRange(0xA9FE_0000, 16) { return "link-local 169.254.0.0/16" }
            if inRange(0xAC10_0000, 12) { return "private 172.16.0.0/12" }
            if inRange(0xC000_0000, 24) { return "IETF protocol 192.0.0.0/24" }
            if inRange(0xC000_0200, 24) || inRange(0xC633_6400, 24) || inRange(0xCB00_7100, 24) { return "documentation" }
            if inRange(0xC0A8_0000, 16) { return "private 192.168.0.0/16" }
            if inRange(0xC612_0000, 15) { return "benchmarking 198.18.0.0/15" }
            if inRange(0xE000_0000, 4) { return "multicast 224.0.0.0/4" }
            if inRange(0xF000_0000, 4) { return "reserved 240.0.0.0/4" }
            return nil
        case .v6(let p):
            if let v4 = embeddedIPv4, let inner = IPAddress.v4(v4).specialRange { return "\(inner) (embedded in IPv6)" }
            if p.allSatisfy({ $0 == 0 }) { return "unspecified ::" }
            if p[0..<7].allSatisfy({ $0 == 0 }) && p[7] == 1 { return "loopback ::1" }
            if p[0] & 0xFE00 == 0xFC00 { return "unique-local fc00::/7" }
            if p[0] & 0xFFC0 == 0xFE80 { return "link-local fe80::/10" }
            if p[0] & 0xFFC0 == 0xFEC0 { return "site-local fec0::/10" }
            if p[0] & 0xFF00 == 0xFF00 { return "multicast ff00::/8" }
            if p[0] == 0x2001 && p[1] == 0x0DB8 { return "documentation 2001:db8::/32" }
            if p[0] == 0x0100 && p[1..<4].allSatisfy({ $0 == 0 }) { return "discard 100::/64" }
            return nil
        }
    }
}

extension String {
    func components(separatedByString separator: String) -> [String] {
        split(separator: separator, omittingEmptySubsequences: false).map(String.init)
    }
}
