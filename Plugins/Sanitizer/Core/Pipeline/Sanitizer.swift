import Synchronization

/// The sanitizer: validation, Unicode hygiene, RAG separation, tool checks, PII/secret
/// redaction, injection scoring, canaries and output checks, in that order. Cheap size checks run
/// before any scanning, so an oversized request costs almost nothing.
public final class Sanitizer: Sendable {
    public let config: SanitizerConfig
    /// Every rule (one Hyperscan database); the request side filters by category and type.
    let all: SensitiveDataScanner
    let markers: RoleMarkers
    let parser: JSONParser
    /// The injection detector, when one is wired in.
    public let injection: (any InjectionScoring)?
    private let scans = Atomic<Int>(0)

    /// How many content scans ran (tests use it to prove that size limits act before scanning).
    public var scanCount: Int { scans.load(ordering: .relaxed) }

    public init(config: SanitizerConfig = SanitizerConfig(), injection: (any InjectionScoring)? = nil) throws(PatternError) {
        self.config = config
        self.injection = injection
        // Opt-in types (URL, postcodes) only when pii.types names them.
        let optIn = ContactRules.optInTypes.subtracting(config.piiTypes ?? [])
        var rules = (PIIRules.all + SecretRules.all).filter { !optIn.contains($0.type) }
        if !config.privateIPAddresses {
            rules = rules.map { $0.type == "IP_ADDRESS" ? PIIRules.publicOnly($0) : $0 }
        }
        all = try SensitiveDataScanner(rules: rules)
        markers = try RoleMarkers()
        parser = JSONParser(limits: JSONLimits(maxBytes: max(config.maxToolSchemaBytes, config.maxToolArgumentsBytes),
                                               maxDepth: config.maxJSONDepth))
    }

    // MARK: request

    /// Sanitizes a request; throws ``SanitizerDenial`` when it must be refused.
    public func sanitize(_ input: RequestInput, session: SanitizerSession) throws(SanitizerDenial) -> RequestOutcome {
        try validateShape(input)
        scans.add(1, ordering: .relaxed)
        var request = input
        var findings: [SanitizerFinding] = []

        // Tools offered by the application: their schemas must compile.
        for tool in input.tools {
            guard tool.parameters.utf8.count <= config.maxToolSchemaBytes else {
                throw SanitizerDenial(.tooLarge, "tool \(tool.name): schema larger than \(config.maxToolSchemaBytes) bytes")
            }
            do {
                let schema = try JSONSchema(text: tool.parameters.isEmpty ? "{}" : tool.parameters, parser: parser)
                session.tools[tool.name] = schema
            } catch {
                throw SanitizerDenial(.toolSchema, "tool \(tool.name): \(error)")
            }
        }

        let rewriteRaw = !input.prompt.isEmpty
        if rewriteRaw {
            request.prompt = try sanitizeText(input.prompt, role: .user, session: session, findings: &findings)
        }
        let spotlighter = Spotlighter(mode: config.spotlight)
        var usedSpotlight = false
        for index in request.messages.indices {
            var message = request.messages[index]
            message.content = try sanitizeText(message.content, role: message.role, session: session, findings: &findings)
            message.toolCalls = try message.toolCalls.map { call throws(SanitizerDenial) in
                try checkToolCall(call, session: session, findings: &findings)
            }
            if message.role.isUntrusted, config.spotlight != .none, !message.content.isEmpty {
                message.content = spotlighter.apply(message.content)
                usedSpotlight = true
            }
            request.messages[index] = message
        }
        // The spotlighting convention and the canary go into the (trusted) system prompt.
        if let firstSystem = request.messages.firstIndex(where: { $0.role == .system }) {
            if usedSpotlight, let instruction = spotlighter.instruction {
                request.messages[firstSystem].content += "\n\n" + instruction
            }
            if config.canary {
                let canary = Canary()
                session.canary = canary
                request.messages[firstSystem].content = canary.insert(into: request.messages[firstSystem].content)
            }
        } else if usedSpotlight, let instruction = spotlighter.instruction {
            request.messages.insert(MessageInput(role: .system, content: instruction), at: 0)
        }
        if config.scanOutput || session.canary != nil {
            session.output = StreamRedactor(scanner: config.scanOutput ? all : nil, mode: config.redaction, vault: session.vault,
                                            canary: session.canary, maxHoldBytes: config.maxHoldBytes)
        }
        session.findings += findings
        return RequestOutcome(request: request, changed: request != input, findings: findings)
    }

    /// Size, count, role and content-type checks: no scanning work.
    func validateShape(_ input: RequestInput) throws(SanitizerDenial) {
        guard input.messages.count <= config.maxMessages else {
            throw SanitizerDenial(.tooManyMessages, "\(input.messages.count) messages exceed the limit of \(config.maxMessages)")
        }
        guard input.tools.count <= config.maxTools else {
            throw SanitizerDenial(.tooLarge, "\(input.tools.count) tools exceed the limit of \(config.maxTools)")
        }
        if let type = input.contentType?.split(separator: ";").first.map({ String($0).trimmingSpaces.lowercased() }),
           !config.contentTypes.contains(type) {
            throw SanitizerDenial(.contentType, "content type \(type) is not allowed")
        }
        var total = input.prompt.utf8.count
        guard total <= config.maxMessageBytes else {
            throw SanitizerDenial(.tooLarge, "prompt of \(total) bytes exceeds the limit of \(config.maxMessageBytes)")
        }
        var seenNonSystem = false
        for (index, message) in input.messages.enumerated() {
            let size = message.content.utf8.count
            guard size <= config.maxMessageBytes else {
                throw SanitizerDenial(.tooLarge, "message \(index) of \(size) bytes exceeds the limit of \(config.maxMessageBytes)")
            }
            guard message.name.utf8.count <= config.maxNameBytes, message.toolCallID.utf8.count <= config.maxNameBytes else {
                throw SanitizerDenial(.tooLarge, "message \(index): name or tool_call_id longer than \(config.maxNameBytes) bytes")
            }
            total += size
            for call in message.toolCalls {
                guard call.arguments.utf8.count <= config.maxToolArgumentsBytes else {
                    throw SanitizerDenial(.tooLarge, "tool call \(call.name): arguments larger than \(config.maxToolArgumentsBytes) bytes")
                }
                total += call.arguments.utf8.count
            }
            guard message.role != .unspecified, config.roles.contains(message.role) else {
                throw SanitizerDenial(.invalidRole, "message \(index): role \(message.role.rawValue) is not allowed")
            }
            // Untrusted content can never become system content: system messages only lead.
            if message.role == .system {
                guard !seenNonSystem else {
                    throw SanitizerDenial(.systemAfterConversation, "message \(index): a system message after the conversation started")
                }
            } else {
                seenNonSystem = true
            }
        }
        for tool in input.tools { total += tool.parameters.utf8.count + tool.description.utf8.count }
        guard total <= config.maxTotalBytes else {
            throw SanitizerDenial(.tooLarge, "request of \(total) bytes exceeds the limit of \(config.maxTotalBytes)")
        }
    }

    /// UTF-8 validity of raw bytes (the glue calls it on fields before building Strings).
    public static func checkUTF8(_ bytes: [UInt8], field: String) throws(SanitizerDenial) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw SanitizerDenial(.invalidUTF8, "\(field) is not valid UTF-8")
        }
        return text
    }

    /// Unicode hygiene, role markers, PII/secrets and injection for one text.
    func sanitizeText(_ original: String, role: MessageRole, session: SanitizerSession,
                      findings: inout [SanitizerFinding]) throws(SanitizerDenial) -> String {
        guard !original.isEmpty else { return original }
        var text = original
        // Unicode hygiene: always report, then deny or strip. Plain ASCII without control
        // characters (most prompts) is found in one pass that also answers later questions: such
        // a text is clean and is its own detection form.
        let asciiVisible = UnicodeHygiene.asciiFastPath(text)
        var report = UnicodeReport()
        if let asciiVisible {
            report.visibleScalars = asciiVisible
        } else {
            report = UnicodeHygiene.inspectScalars(text)
        }
        // The detection form of `text` as it is now, computed at most once (`text` changes only
        // when a stage strips something; the cache is dropped then).
        var cachedForm: String? = asciiVisible != nil ? text : nil
        func detectionForm() -> String {
            if let cachedForm { return cachedForm }
            let form = UnicodeHygiene.detectionForm(text)
            cachedForm = form
            return form
        }
        if !report.isClean {
            var detail = report.summary
            if !report.smuggledText.isEmpty { detail += "; ascii_smuggling=\(report.smuggledText.count) chars" }
            findings.append(SanitizerFinding("unicode", "\(role.rawValue): \(detail)"))
            if config.denyInvisibleOnly && report.isOnlyInvisible {
                throw SanitizerDenial(.invisibleOnly, "\(role.rawValue) content is made only of invisible characters (\(report.summary))")
            }
            if let denied = report.issues.first(where: { config.unicodeDeny.contains($0) }) {
                let what = denied == .tagCharacters ? "ASCII smuggling in tag characters" : denied.rawValue
                throw SanitizerDenial(.unicode, "\(role.rawValue) content contains \(what) (\(report.summary))")
            }
            switch config.unicodeAction {
            case .deny: throw SanitizerDenial(.unicode, "\(role.rawValue) content contains \(report.summary)")
            case .strip:
                text = UnicodeHygiene.removing(Set(report.issues), from: text)
                cachedForm = nil
            case .flag, .off: break
            }
        }
        // Role markers in untrusted content.
        if config.roleMarkerAction != .off, config.roleMarkerRoles.contains(role) {
            let found: Bool
            do { found = try markers.containsMarker(text, detectionForm: detectionForm) } catch {
                throw SanitizerDenial(.scanFailed, "role-marker scan failed: \(error)")
            }
            if found {
                findings.append(SanitizerFinding("role_marker", role.rawValue))
                switch config.roleMarkerAction {
                case .deny: throw SanitizerDenial(.roleMarker, "\(role.rawValue) content contains a chat-template role marker")
                case .strip:
                    do { text = try markers.neutralize(text) } catch {
                        throw SanitizerDenial(.scanFailed, "role-marker scan failed: \(error)")
                    }
                    cachedForm = nil
                default: break
                }
            }
        }
        // Injection score on the detection form.
        if let injection, let threshold = config.injectionThresholds[role], let action = config.injectionActions[role], action != .off {
            let score = injection.injectionScore(detectionForm())
            if score >= threshold {
                findings.append(SanitizerFinding("injection", "\(role.rawValue): score \(String(format2: score))"))
                if action == .deny {
                    throw SanitizerDenial(.injection, "\(role.rawValue) content looks like a prompt injection (score \(String(format2: score)))")
                }
            }
        }
        // PII and secrets.
        text = try redact(text, role: role, session: session, findings: &findings)
        return text
    }

    func redact(_ text: String, role: MessageRole, session: SanitizerSession, findings: inout [SanitizerFinding]) throws(SanitizerDenial) -> String {
        guard config.piiAction != .off || config.secretAction != .off else { return text }
        let bytes = Array(text.utf8)
        let found: [SensitiveFinding]
        // A prompt or message is one field: a bare identifier that is its whole text is a
        // whole-field value (``ScanContext``). The output side scans fragments (StreamRedactor).
        do { found = try all.scan(bytes: bytes, scope: .field) } catch {
            throw SanitizerDenial(.scanFailed, "PII/secret scan failed: \(error)")
        }
        var redact: [SensitiveFinding] = []
        var claimed = Set<Int>()  // starts of findings already redacted as a secret
        for category in [SensitiveCategory.secret, .pii] {
            let action = category == .pii ? config.piiAction : config.secretAction
            // A value with several types counts under each (fail closed): secrets first, then the
            // PII types the config selects, through any of the value's types.
            let hits = found.compactMap { f -> SensitiveFinding? in
                guard !claimed.contains(f.range.lowerBound) else { return nil }
                return f.reading(as: category) { category == .secret || config.piiTypes?.contains($0) ?? true }
            }
            if category == .secret, action == .strip { for hit in hits { claimed.insert(hit.range.lowerBound) } }
            guard action != .off, !hits.isEmpty else { continue }
            let types = Array(Set(hits.map(\.label))).sorted().joined(separator: ",")
            findings.append(SanitizerFinding(category.rawValue, "\(role.rawValue): \(types)"))
            switch action {
            case .deny:
                throw SanitizerDenial(category == .pii ? .pii : .secret,
                                      "\(role.rawValue) content contains \(category == .pii ? "personal data" : "a secret") (\(types))")
            case .strip:
                redact += hits
            default:
                break
            }
        }
        guard !redact.isEmpty else { return text }
        redact.sort { $0.range.lowerBound < $1.range.lowerBound }
        return Redactor.apply(bytes, redact, mode: config.redaction, vault: session.vault, restorable: config.redaction == .reversible)
    }

    // MARK: tools

    /// Checks a tool call against the request's tool definitions, the URL policy and
    /// `secrets.action`; returns it (repaired or redacted when configured so) or throws.
    ///
    /// `origin` says where the call comes from: `.request` (a call in the request's history, which
    /// goes to the model) or `.response` (the model's own call, which goes to the application).
    /// A response's call is output: placeholders made from it are never turned back, and with
    /// `redaction = "reversible"` the request's placeholders in its string values are turned back
    /// into the originals, as in the output text.
    ///
    /// `rewritable` says whether the caller can use a rewritten call (the plugin can, on both
    /// sides: request messages, and a response's calls through ABI 1.3's `replace_tool_calls`).
    /// With false, a secret that `strip` would redact, and arguments that
    /// `tools.on_invalid_arguments = "repair"` would repair, are refused instead.
    public func checkToolCall(_ call: ToolCallInput, origin: ToolCallOrigin = .request, session: SanitizerSession,
                              findings: inout [SanitizerFinding], rewritable: Bool = true) throws(SanitizerDenial) -> ToolCallInput {
        if !config.urls.tools.isEmpty, !config.urls.tools.contains(call.name) {
            throw SanitizerDenial(.toolNotAllowed, "tool \(call.name) is not in the connector allowlist")
        }
        guard call.arguments.utf8.count <= config.maxToolArgumentsBytes else {
            throw SanitizerDenial(.tooLarge, "tool call \(call.name): arguments larger than \(config.maxToolArgumentsBytes) bytes")
        }
        let arguments: JSONValue
        do {
            arguments = try parser.parse(call.arguments.isEmpty ? "{}" : call.arguments)
        } catch {
            throw SanitizerDenial(.toolArguments, "tool call \(call.name): arguments are not acceptable JSON: \(error)")
        }
        var checked = arguments
        var rewritten = false  // `checked` differs from the call's own arguments
        if let schema = session.tools[call.name] {
            var violations: [SchemaViolation]
            do { violations = try schema.validate(arguments) } catch {
                throw SanitizerDenial(.toolArguments, "tool call \(call.name): \(error)")
            }
            if let first = violations.first, config.toolArgumentsAction == .strip {
                // A repair the caller cannot use would be reported but never reach the client.
                guard rewritable else {
                    throw SanitizerDenial(.toolArguments,
                                          "tool call \(call.name): arguments do not match the schema and cannot be repaired here: \(first)")
                }
                let repaired = SchemaRepair.repair(arguments, schema: schema)
                if let again = try? schema.validate(repaired), again.isEmpty {
                    findings.append(SanitizerFinding("tool_repaired", call.name))
                    checked = repaired
                    rewritten = true
                    violations = []
                }
            }
            if let first = violations.first {
                throw SanitizerDenial(.toolArguments, "tool call \(call.name): arguments do not match the schema: \(first)")
            }
        } else if !session.tools.isEmpty {
            throw SanitizerDenial(.toolNotAllowed, "tool call \(call.name): no such tool was offered")
        }
        if config.secretAction != .off,
           let redacted = try checkSecrets(checked, call: call.name, origin: origin, rewritable: rewritable, session: session,
                                           findings: &findings) {
            checked = redacted
            rewritten = true
        }
        if origin == .response, config.redaction == .reversible, rewritable,
           let restored = checked.replacingStrings({ text in
               let restored = session.vault.restore(text)
               return restored == text ? nil : restored
           }) {
            checked = restored
            rewritten = true
        }
        // Last, on what the receiver gets: with the originals back in, a URL can change.
        if config.checkURLs, let violation = config.urls.firstViolation(in: checked) {
            throw SanitizerDenial(.url, "tool call \(call.name): URL refused: \(violation.reason)")
        }
        guard rewritten else { return call }  // untouched calls keep their bytes
        var result = call
        result.arguments = checked.serialized
        return result
    }

    /// Secrets in a tool call's string arguments. Personal data is not looked for here: tool calls
    /// carry it on purpose (a recipient, an address). Returns the arguments with the secrets
    /// redacted when `secrets.action` is `strip`, nil when nothing changes; throws for `deny`, and
    /// for `strip` where the call cannot be rewritten.
    ///
    /// Every string value (decoded, so JSON escapes hide nothing) becomes one line `key: "value"`
    /// under its member name (an array element: `"value"`), so the rules that need an assignment
    /// or quotes (`password: "…"`, a quoted high-entropy run) read it as they read a prompt, and all
    /// lines are scanned at once: one scan however many values there are, over text no larger than
    /// the arguments plus a few bytes per value. No secret rule uses the whole-field signal. A
    /// finding is redacted in every value it touches, clipped to the value.
    private func checkSecrets(_ arguments: JSONValue, call name: String, origin: ToolCallOrigin, rewritable: Bool,
                              session: SanitizerSession, findings: inout [SanitizerFinding]) throws(SanitizerDenial) -> JSONValue? {
        // The parser bounds the depth (64), so both recursions are bounded too.
        var joined: [UInt8] = []
        var spans: [Range<Int>] = []
        func collect(_ value: JSONValue, key: String) {
            switch value {
            case .string(let text):
                if !spans.isEmpty { joined.append(0x0A) }
                if !key.isEmpty {
                    joined.append(contentsOf: key.utf8)
                    joined.append(0x3A)  // `: `
                    joined.append(0x20)
                }
                joined.append(0x22)  // `"`
                let start = joined.count
                joined.append(contentsOf: text.utf8)
                spans.append(start..<joined.count)
                joined.append(0x22)
            // Array elements go unnamed: repeating the name per element would let a long name over a
            // long array blow the text up far beyond the arguments' own size.
            case .array(let elements): for element in elements { collect(element, key: "") }
            case .object(let members): for (member, value) in members { collect(value, key: member) }
            case .null, .bool, .number: break
            }
        }
        collect(arguments, key: "")
        guard !joined.isEmpty else { return nil }
        let found: [SensitiveFinding]
        do { found = try all.scan(bytes: joined, scope: .fragment) } catch {
            throw SanitizerDenial(.scanFailed, "tool call \(name): secret scan failed: \(error)")
        }
        let secrets = found.compactMap { $0.reading(as: .secret) }
        guard !secrets.isEmpty else { return nil }
        let list = Set(secrets.map(\.type)).sorted().joined(separator: ",")
        // The findings that touch each value (both lists are sorted by offset and the findings do
        // not overlap, so one pass pairs them), and whether any finding touches no value at all:
        // one in an argument's name, which cannot be redacted.
        var touching: [[SensitiveFinding]] = Array(repeating: [], count: spans.count)
        var inValues = Array(repeating: false, count: secrets.count)
        var first = 0
        for (v, span) in spans.enumerated() {
            while first < secrets.count, secrets[first].range.upperBound <= span.lowerBound { first += 1 }
            var j = first
            while j < secrets.count, secrets[j].range.lowerBound < span.upperBound {
                var clipped = secrets[j]
                clipped.range = (max(clipped.range.lowerBound, span.lowerBound) - span.lowerBound)
                    ..< (min(clipped.range.upperBound, span.upperBound) - span.lowerBound)
                touching[v].append(clipped)
                inValues[j] = true
                j += 1
            }
        }
        switch config.secretAction {
        case .deny:
            throw SanitizerDenial(.secret, "tool call \(name): arguments contain a secret (\(list))")
        case .strip where !rewritable:
            throw SanitizerDenial(.secret, "tool call \(name) carries a secret (\(list)) and cannot be redacted here")
        case .strip where inValues.contains(false):
            throw SanitizerDenial(.secret, "tool call \(name): an argument name holds a secret (\(list)); names are not redacted")
        case .strip, .flag, .off:
            findings.append(SanitizerFinding(SensitiveCategory.secret.rawValue, "tool call \(name): \(list)"))
        }
        guard config.secretAction == .strip else { return nil }
        // The values again, in the same order as `collect` (the same dictionaries, unchanged),
        // each redacted where its findings touch it.
        var index = 0
        return arguments.replacingStrings { text in
            let local = touching[index]
            index += 1
            guard !local.isEmpty else { return nil }
            // A placeholder made from the model's own call is output: never turned back.
            return Redactor.apply(Array(text.utf8), local, mode: config.redaction, vault: session.vault,
                                  restorable: config.redaction == .reversible && origin == .request)
        }
    }

    // MARK: output

    /// Checks a complete output (unary response): canary, PII/secrets, placeholder restore.
    /// `pending` is text the stream redactor still holds (released first).
    public func checkOutput(_ text: String, session: SanitizerSession) throws(SanitizerDenial) -> OutputOutcome {
        var redactor = session.output ?? StreamRedactor(scanner: config.scanOutput ? all : nil, mode: config.redaction,
                                                        vault: session.vault, canary: session.canary, maxHoldBytes: config.maxHoldBytes)
        scans.add(1, ordering: .relaxed)
        var out = ""
        var types: [String] = []
        do {
            for step in [try redactor.push(text), try redactor.finish()] {
                switch step {
                case .canaryLeak:
                    throw SanitizerDenial(.canaryLeak, "the output leaks the system prompt (canary token)")
                case .release(let piece, let redacted):
                    out += piece
                    types += redacted
                }
            }
        } catch let error as SanitizerDenial {
            throw error
        } catch {
            throw SanitizerDenial(.scanFailed, "output scan failed: \(error)")
        }
        session.output = redactor
        let findings = types.isEmpty ? [] : [SanitizerFinding("output_redacted", Array(Set(types)).sorted().joined(separator: ","))]
        return OutputOutcome(text: out, changed: out != text, findings: findings)
    }

    /// One streamed chunk: what to release now, or a denial (canary leak, scan failure).
    public func filterChunk(_ chunk: String, session: SanitizerSession) throws(SanitizerDenial) -> String {
        guard var redactor = session.output else { return chunk }
        defer { session.output = redactor }
        let outcome: StreamRedactor.Outcome
        do {
            outcome = chunk.isEmpty ? try redactor.finish() : try redactor.push(chunk)
        } catch {
            throw SanitizerDenial(.scanFailed, "output scan failed: \(error)")
        }
        switch outcome {
        case .canaryLeak:
            throw SanitizerDenial(.canaryLeak, "the output leaks the system prompt (canary token)")
        case .release(let text, let redacted):
            if !redacted.isEmpty { session.findings.append(SanitizerFinding("output_redacted", Array(Set(redacted)).sorted().joined(separator: ","))) }
            return text
        }
    }

    /// `text` with every PII and secret replaced by typed placeholders: for log lines and audit
    /// attributes. Scanned as one field (`scope`), like a message: a value logged alone is
    /// redacted wherever the request side would redact it.
    public func redactForLogs(_ text: String, scope: ScanScope = .field) -> String {
        Redactor.forLogs(text, scanner: all, scope: scope)
    }
}

extension String {
    init(format2 value: Double) {
        let scaled = (value * 100).rounded() / 100
        self = "\(scaled)"
    }
}
