import FuzzSupport
import RampartSanitizerCore

/// The whole sanitizer on arbitrary bytes, with the real rule sets (PII, secrets, role markers,
/// Unicode hygiene) and the real signed injection detector (rules over base64/hex/rot13/leetspeak
/// views, phrase similarity, the learned model), called the way the plugin calls it:
/// `Sanitizer.checkUTF8` on the raw field, `sanitize` on the request, then `checkOutput` or
/// `filterChunk` per streamed chunk on the model's side, and `redactForLogs`.
///
/// First byte: bits 0–1 pick the config (default; strip-and-reversible; deny everything; flag
/// everything), bits 2–3 the request shape (raw prompt; chat split on 0x00 with the role taken
/// from each piece's first byte; prompt plus tool definition and tool call split on 0x00;
/// output only), bits 4–6 the chunk size of the output pass.
/// The plugin's wiring (Plugins/Sanitizer/Plugin/InjectionWiring.swift), which lives in the plugin
/// module: the detector's calibrated score is what the sanitizer thresholds.
extension InjectionDetector: @retroactive InjectionScoring {
    public func injectionScore(_ text: String) -> Double { scan(text).score }
}

enum Harness {
    static let detector: InjectionDetector = {
        do { return try InjectionDetector.loadDefault() } catch { fatalError("injection detector: \(error)") }
    }()

    static let sanitizers: [Sanitizer] = {
        func make(_ json: String) -> Sanitizer {
            do {
                return try Sanitizer(config: SanitizerConfig.parse(json), injection: detector)
            } catch {
                fatalError("sanitizer config \(json): \(error)")
            }
        }
        return [
            make(""),
            make(#"{"redaction": "reversible", "tools": {"on_invalid_arguments": "repair"}, "role_markers": {"action": "strip"}, "spotlight": "datamark"}"#),
            make(#"{"pii": {"action": "deny"}, "secrets": {"action": "deny"}, "unicode": {"action": "deny"}, "redaction": "mask", "injection": {"actions": {"user": "deny"}}}"#),
            make(#"{"pii": {"action": "flag"}, "secrets": {"action": "flag"}, "unicode": {"action": "flag"}, "canary": false, "output": {"max_hold_bytes": 64}}"#),
        ]
    }()

    static func run(_ input: inout FuzzInput) {
        let mode = input.byte()
        let sanitizer = sanitizers[Int(mode & 3)]
        let shape = (mode >> 2) & 3
        let chunkSize = [1, 3, 8, 17, 64, 256, 1024, Int.max][Int(mode >> 4) & 7]
        let bytes = input.rest()
        // The plugin refuses invalid UTF-8 fields before building Strings; a client can still send
        // any valid string, so the repaired text is sanitized either way.
        _ = try? Sanitizer.checkUTF8(bytes, field: "prompt")
        let session = SanitizerSession()
        var request = RequestInput()
        switch shape {
        case 0:
            request.prompt = text(bytes)
        case 1:
            let roles: [MessageRole] = [.system, .user, .assistant, .tool, .retrieved]
            request.messages = pieces(bytes, separator: 0).map { piece in
                let role = roles[Int(piece.first ?? 0) % roles.count]
                return MessageInput(role: role, content: text(Array(piece.dropFirst())))
            }
        case 2:
            let parts = pieces(bytes, separator: 0)
            let part = { (i: Int) in parts.indices.contains(i) ? text(parts[i]) : "" }
            request.prompt = part(0)
            request.tools = [ToolDefinitionInput(name: "fetch", parameters: part(1))]
            request.messages = [
                MessageInput(role: .user, content: part(3)),
                MessageInput(role: .assistant, content: "", toolCalls: [ToolCallInput(id: "1", name: "fetch", arguments: part(2))]),
            ]
        default:
            break
        }
        if shape != 3 {
            do {
                let outcome = try sanitizer.sanitize(request, session: session)
                _ = outcome.request.messages.map { sanitizer.redactForLogs($0.content) }
            } catch {
                _ = error.message
            }
        }
        // The model's side: the same bytes as generated text, unary and streamed.
        let output = text(bytes)
        if chunkSize == .max {
            _ = try? sanitizer.checkOutput(output, session: session)
        } else {
            let scalars = Array(output.unicodeScalars)
            var index = 0
            while index < scalars.count {
                var chunk = ""
                chunk.unicodeScalars.append(contentsOf: scalars[index..<min(index + chunkSize, scalars.count)])
                index += chunkSize
                guard (try? sanitizer.filterChunk(chunk, session: session)) != nil else { break }
            }
            _ = try? sanitizer.filterChunk("", session: session)
        }
        session.close()
        _ = sanitizer.redactForLogs(output)
    }
}

fuzzMain { Harness.run(&$0) }
