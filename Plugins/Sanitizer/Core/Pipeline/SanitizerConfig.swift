/// What to do with a finding.
public enum SanitizerAction: String, Sendable, CaseIterable {
    /// Refuse the request (or stop the output).
    case deny
    /// Let it through, annotated and audited.
    case flag
    /// Remove or rewrite the offending part (strip code points, neutralise markers, redact).
    case strip
    /// Do not look.
    case off
}

/// How redacted values are replaced.
public enum RedactionMode: String, Sendable, CaseIterable {
    /// `****` (same length up to 16 stars).
    case mask
    /// `[EMAIL_ADDRESS_1]`, numbered per value within the request.
    case typed
    /// Typed placeholders whose originals are restored in this request's output (kept only in
    /// the stream's memory, never stored or logged).
    case reversible
}

/// The sanitizer's configuration: the `config` string of its `[[plugins]]` entry, as JSON.
/// Empty means every default. Unknown keys are refused (a typo never disables a check).
public struct SanitizerConfig: Sendable, Equatable {
    // limits
    public var maxMessages = 256
    public var maxMessageBytes = 256 << 10
    public var maxTotalBytes = 1 << 20
    public var maxNameBytes = 256
    public var maxTools = 64
    public var maxToolSchemaBytes = 64 << 10
    public var maxToolArgumentsBytes = 64 << 10
    public var maxJSONDepth = 32
    public var roles: Set<MessageRole> = [.system, .user, .assistant, .tool, .retrieved]
    /// Allowed `content-type` metadata values (a call without one is text).
    public var contentTypes: Set<String> = ["text/plain", "application/json"]

    // unicode
    /// Default action on suspicious code points: strip them.
    public var unicodeAction: SanitizerAction = .strip
    /// Classes that are always refused (default: tag characters, i.e. ASCII smuggling).
    public var unicodeDeny: Set<UnicodeIssue> = [.tagCharacters]
    /// Refuse a message made only of invisible code points.
    public var denyInvisibleOnly = true

    // RAG
    public var roleMarkerAction: SanitizerAction = .deny
    public var roleMarkerRoles: Set<MessageRole> = [.retrieved, .tool]
    public var spotlight: SpotlightMode = .delimit

    // tools
    /// `deny` or `strip` (= repair) when a tool call's arguments do not match the schema.
    public var toolArgumentsAction: SanitizerAction = .deny
    public var urls = URLPolicy()
    /// Check URLs in tool-call arguments (off = no URL policy).
    public var checkURLs = true

    // PII and secrets
    public var piiAction: SanitizerAction = .strip
    public var secretAction: SanitizerAction = .strip
    public var redaction: RedactionMode = .typed
    /// Restrict PII detection to these types (nil = all).
    public var piiTypes: Set<String>?
    /// Report private, loopback, link-local and other special-purpose IP addresses as
    /// `IP_ADDRESS` (default); false reports only addresses that can point at one machine.
    public var privateIPAddresses = true
    /// Scan generated text as well.
    public var scanOutput = true
    /// Bytes of output the stream redactor may hold back at most.
    public var maxHoldBytes = 1024

    // canary
    public var canary = true

    // injection (the detector plugs in through InjectionScoring)
    /// Defaults keep the out-of-fold false-positive rates of the session-5 defaults (user 0.9: none of
    /// 1,759 train benign texts; retrieved/tool 0.85 ≈ 0.3 %, as 0.7 gave before the combiner read
    /// the logit logarithmically; docs/SANITIZER-INJECTION.md).
    public var injectionThresholds: [MessageRole: Double] = [.user: 0.9, .retrieved: 0.85, .tool: 0.85]
    public var injectionActions: [MessageRole: SanitizerAction] = [.user: .flag, .retrieved: .deny, .tool: .deny]

    public init() {}

    /// A configuration error (refused at plugin creation).
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { "sanitizer config: \(message)" }
    }

    /// Parses the JSON configuration text (empty = defaults).
    public static func parse(_ text: String) throws(Invalid) -> SanitizerConfig {
        var config = SanitizerConfig()
        guard !text.trimmingSpaces.isEmpty else { return config }
        let root: JSONValue
        do {
            root = try JSONParser(limits: JSONLimits(maxBytes: 1 << 20, maxDepth: 16)).parse(text)
        } catch {
            throw Invalid(message: "not valid JSON: \(error)")
        }
        guard let top = root.objectValue else { throw Invalid(message: "must be a JSON object") }
        var reader = ConfigReader()
        try reader.read(top, into: &config)
        return config
    }
}

struct ConfigReader {
    typealias Invalid = SanitizerConfig.Invalid

    func object(_ value: JSONValue, _ path: String, allowed: Set<String>) throws(Invalid) -> [String: JSONValue] {
        guard let o = value.objectValue else { throw Invalid(message: "\(path) must be an object") }
        if let unknown = o.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw Invalid(message: "unknown key \(path).\(unknown) (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
        return o
    }

    func int(_ value: JSONValue, _ path: String, _ range: ClosedRange<Int>) throws(Invalid) -> Int {
        guard let n = value.numberValue, n.rounded() == n, n >= Double(range.lowerBound), n <= Double(range.upperBound) else {
            throw Invalid(message: "\(path) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(n)
    }

    func bool(_ value: JSONValue, _ path: String) throws(Invalid) -> Bool {
        guard let b = value.boolValue else { throw Invalid(message: "\(path) must be true or false") }
        return b
    }

    func strings(_ value: JSONValue, _ path: String) throws(Invalid) -> [String] {
        guard let a = value.arrayValue else { throw Invalid(message: "\(path) must be an array of strings") }
        var out: [String] = []
        for item in a {
            guard let s = item.stringValue else { throw Invalid(message: "\(path) must be an array of strings") }
            out.append(s)
        }
        return out
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ value: JSONValue, _ path: String, _: E.Type) throws(Invalid) -> E where E.RawValue == String {
        guard let s = value.stringValue, let e = E(rawValue: s) else {
            throw Invalid(message: "\(path) must be one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return e
    }

    func roles(_ value: JSONValue, _ path: String) throws(Invalid) -> Set<MessageRole> {
        var out: Set<MessageRole> = []
        for s in try strings(value, path) {
            guard let r = MessageRole(rawValue: s), r != .unspecified else { throw Invalid(message: "\(path): unknown role \(s)") }
            out.insert(r)
        }
        return out
    }

    func perRole<T>(_ value: JSONValue, _ path: String, _ convert: (JSONValue, String) throws(Invalid) -> T) throws(Invalid) -> [MessageRole: T] {
        let o = try object(value, path, allowed: Set(MessageRole.allCases.filter { $0 != .unspecified }.map(\.rawValue)))
        var out: [MessageRole: T] = [:]
        for (k, v) in o {
            guard let role = MessageRole(rawValue: k) else { continue }
            out[role] = try convert(v, "\(path).\(k)")
        }
        return out
    }

    mutating func read(_ top: [String: JSONValue], into c: inout SanitizerConfig) throws(Invalid) {
        let o = try object(.object(top), "config", allowed: ["limits", "roles", "content_types", "unicode", "role_markers", "spotlight",
                                                             "tools", "pii", "secrets", "redaction", "output", "canary", "injection"])
        if let v = o["limits"] {
            let l = try object(v, "limits", allowed: ["max_messages", "max_message_bytes", "max_total_bytes", "max_name_bytes", "max_tools",
                                                      "max_tool_schema_bytes", "max_tool_arguments_bytes", "max_json_depth"])
            if let x = l["max_messages"] { c.maxMessages = try int(x, "limits.max_messages", 1...100_000) }
            if let x = l["max_message_bytes"] { c.maxMessageBytes = try int(x, "limits.max_message_bytes", 1...(64 << 20)) }
            if let x = l["max_total_bytes"] { c.maxTotalBytes = try int(x, "limits.max_total_bytes", 1...(256 << 20)) }
            if let x = l["max_name_bytes"] { c.maxNameBytes = try int(x, "limits.max_name_bytes", 1...65536) }
            if let x = l["max_tools"] { c.maxTools = try int(x, "limits.max_tools", 0...4096) }
            if let x = l["max_tool_schema_bytes"] { c.maxToolSchemaBytes = try int(x, "limits.max_tool_schema_bytes", 2...(16 << 20)) }
            if let x = l["max_tool_arguments_bytes"] { c.maxToolArgumentsBytes = try int(x, "limits.max_tool_arguments_bytes", 2...(16 << 20)) }
            if let x = l["max_json_depth"] { c.maxJSONDepth = try int(x, "limits.max_json_depth", 1...256) }
        }
        if let v = o["roles"] { c.roles = try roles(v, "roles") }
        if let v = o["content_types"] { c.contentTypes = Set(try strings(v, "content_types").map { $0.lowercased() }) }
        if let v = o["unicode"] {
            let u = try object(v, "unicode", allowed: ["action", "deny", "deny_invisible_only"])
            if let x = u["action"] { c.unicodeAction = try enumValue(x, "unicode.action", SanitizerAction.self) }
            if let x = u["deny"] {
                c.unicodeDeny = []
                for s in try strings(x, "unicode.deny") {
                    guard let issue = UnicodeIssue(rawValue: s) else {
                        throw Invalid(message: "unicode.deny: unknown class \(s) (one of \(UnicodeIssue.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    c.unicodeDeny.insert(issue)
                }
            }
            if let x = u["deny_invisible_only"] { c.denyInvisibleOnly = try bool(x, "unicode.deny_invisible_only") }
        }
        if let v = o["role_markers"] {
            let r = try object(v, "role_markers", allowed: ["action", "roles"])
            if let x = r["action"] { c.roleMarkerAction = try enumValue(x, "role_markers.action", SanitizerAction.self) }
            if let x = r["roles"] { c.roleMarkerRoles = try roles(x, "role_markers.roles") }
        }
        if let v = o["spotlight"] { c.spotlight = try enumValue(v, "spotlight", SpotlightMode.self) }
        if let v = o["tools"] {
            let t = try object(v, "tools", allowed: ["on_invalid_arguments", "allowed", "urls"])
            if let x = t["on_invalid_arguments"] {
                let s = x.stringValue ?? ""
                guard s == "deny" || s == "repair" else { throw Invalid(message: "tools.on_invalid_arguments must be deny or repair") }
                c.toolArgumentsAction = s == "deny" ? .deny : .strip
            }
            if let x = t["allowed"] { c.urls.tools = Set(try strings(x, "tools.allowed")) }
            if let x = t["urls"] {
                let u = try object(x, "tools.urls", allowed: ["check", "schemes", "hosts", "ports", "allow_ip_literals",
                                                             "allow_private_addresses", "allow_userinfo"])
                if let y = u["check"] { c.checkURLs = try bool(y, "tools.urls.check") }
                if let y = u["schemes"] { c.urls.schemes = Set(try strings(y, "tools.urls.schemes").map { $0.lowercased() }) }
                if let y = u["hosts"] { c.urls.hosts = try strings(y, "tools.urls.hosts").map { $0.lowercased() } }
                if let y = u["ports"], let list = y.arrayValue {
                    var ports: Set<Int> = []
                    for (i, p) in list.enumerated() { ports.insert(try int(p, "tools.urls.ports[\(i)]", 1...65535)) }
                    c.urls.ports = ports
                }
                if let y = u["allow_ip_literals"] { c.urls.allowIPLiterals = try bool(y, "tools.urls.allow_ip_literals") }
                if let y = u["allow_private_addresses"] { c.urls.allowPrivateAddresses = try bool(y, "tools.urls.allow_private_addresses") }
                if let y = u["allow_userinfo"] { c.urls.allowUserinfo = try bool(y, "tools.urls.allow_userinfo") }
            }
        }
        if let v = o["pii"] {
            let p = try object(v, "pii", allowed: ["action", "types", "private_ip_addresses"])
            if let x = p["action"] { c.piiAction = try enumValue(x, "pii.action", SanitizerAction.self) }
            if let x = p["private_ip_addresses"] { c.privateIPAddresses = try bool(x, "pii.private_ip_addresses") }
            if let x = p["types"] {
                let known = Set(PIIRules.all.map(\.type))
                let list = try strings(x, "pii.types")
                if let bad = list.first(where: { !known.contains($0) }) {
                    throw Invalid(message: "pii.types: unknown type \(bad) (known: \(known.sorted().joined(separator: ", ")))")
                }
                c.piiTypes = Set(list)
            }
        }
        if let v = o["secrets"] {
            let s = try object(v, "secrets", allowed: ["action"])
            if let x = s["action"] { c.secretAction = try enumValue(x, "secrets.action", SanitizerAction.self) }
        }
        if let v = o["redaction"] { c.redaction = try enumValue(v, "redaction", RedactionMode.self) }
        if let v = o["output"] {
            let out = try object(v, "output", allowed: ["scan", "max_hold_bytes"])
            if let x = out["scan"] { c.scanOutput = try bool(x, "output.scan") }
            if let x = out["max_hold_bytes"] { c.maxHoldBytes = try int(x, "output.max_hold_bytes", 64...(1 << 20)) }
        }
        if let v = o["canary"] { c.canary = try bool(v, "canary") }
        if let v = o["injection"] {
            let i = try object(v, "injection", allowed: ["thresholds", "actions"])
            if let x = i["thresholds"] {
                c.injectionThresholds = try perRole(x, "injection.thresholds") { (v: JSONValue, p: String) throws(Invalid) -> Double in
                    guard let n = v.numberValue, n >= 0, n <= 1 else { throw Invalid(message: "\(p) must be a number in 0...1") }
                    return n
                }
            }
            if let x = i["actions"] {
                c.injectionActions = try perRole(x, "injection.actions") { (v: JSONValue, p: String) throws(Invalid) -> SanitizerAction in
                    try enumValue(v, p, SanitizerAction.self)
                }
            }
        }
    }
}
