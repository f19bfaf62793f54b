import RampartPluginKit
import RampartSanitizerCore

/// The sanitizer as a Rampart plugin: request validation, Unicode hygiene, RAG separation, tool
/// checks, PII/secret redaction and injection scoring on the way in; canary, PII/secret and tool
/// checks on the way out (unary responses and streamed chunks). Config: JSON, see
/// docs/SANITIZER.md.
public final class SanitizerPlugin: RampartPlugin {
    public static let name = "sanitizer"
    public static let version = "1.0.0"
    public static let hooks: PluginHooks = [.request, .response, .chunk, .streamState]
    /// All state of a call lives in its stream state; the sanitizer itself is immutable.
    public static let isThreadSafe = true

    let sanitizer: Sanitizer

    public init(config: [UInt8], host: PluginHost) throws {
        guard let text = String(validating: config, as: UTF8.self) else {
            throw PluginError.invalidArgument("sanitizer config is not valid UTF-8")
        }
        let parsed: SanitizerConfig
        do {
            parsed = try SanitizerConfig.parse(text)
        } catch {
            throw PluginError.invalidArgument("\(error)")
        }
        let injection = try InjectionWiring.load(host: host)
        do {
            sanitizer = try Sanitizer(config: parsed, injection: injection)
        } catch {
            throw PluginError.internal("sanitizer: cannot compile its patterns: \(error)")
        }
        host.log(.info, "sanitizer ready: spotlight=\(parsed.spotlight.rawValue) redaction=\(parsed.redaction.rawValue) "
                 + "injection=\(sanitizer.injection == nil ? "absent" : "on")")
    }

    public func makeStreamState(context: PluginCallContext) throws -> AnyObject? {
        SanitizerSession()
    }

    private func session(_ context: PluginCallContext) -> SanitizerSession {
        (context.streamState as? SanitizerSession) ?? SanitizerSession()
    }

    // MARK: request

    /// Reads the prompt and messages as fields (ABI 1.2 content fields: no protobuf encoded or
    /// decoded); a request with tool definitions or tool calls is read whole.
    public func onRequest(_ view: RequestView, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        let content = try view.content()
        guard content.toolCount == 0, content.toolCallCount == 0 else {
            return try onRequest(view.request(), context: context)
        }
        let contentType = view.metadata.first { $0.key.lowercased() == "content-type" }?.value
        // The original messages are needed only to rewrite them (rare): read whole then.
        return try sanitizeRequest(ProtoMapping.input(content, contentType: contentType), context: context) {
            try view.request().request.messages
        }
    }

    public func onRequest(_ request: Rampart_V1_PluginRequest, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        try sanitizeRequest(ProtoMapping.input(request), context: context) { request.request.messages }
    }

    private func sanitizeRequest(_ input: RequestInput, context: PluginCallContext,
                                 original: () throws -> [Rampart_V1_ChatMessage]) throws -> Rampart_V1_Verdict {
        let state = session(context)
        let outcome: RequestOutcome
        do {
            outcome = try sanitizer.sanitize(input, session: state)
        } catch {
            return deny(error, context: context)
        }
        var verdict: Rampart_V1_Verdict = .pass
        if outcome.changed {
            let messages: [Rampart_V1_ChatMessage]?
            if outcome.request.messages != input.messages {
                messages = ProtoMapping.messages(outcome.request.messages, original: try original())
            } else {
                messages = nil
            }
            verdict = .mutate { mutation in
                if let messages {
                    mutation.replaceMessages = true
                    mutation.messages = messages
                }
                if outcome.request.prompt != input.prompt {
                    mutation.replacePrompt = true
                    mutation.prompt = outcome.request.prompt
                }
            }
        }
        return annotate(verdict, outcome.findings)
    }

    // MARK: output

    public func onResponse(_ response: Rampart_V1_PluginResponse, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        let state = session(context)
        var findings: [SanitizerFinding] = []
        let text: String
        var toolCalls = response.response.toolCalls
        do {
            // ABI 1.3: the response's tool calls can be rewritten (a repair, a redacted secret).
            for index in toolCalls.indices {
                let checked = try sanitizer.checkToolCall(ProtoMapping.toolCall(toolCalls[index]), origin: .response, session: state,
                                                          findings: &findings)
                toolCalls[index].argumentsJson = checked.arguments
            }
            if state.sawChunks {
                // The chunks were already checked; release what the redactor still holds.
                text = response.response.text + (try sanitizer.filterChunk("", session: state))
            } else {
                let outcome = try sanitizer.checkOutput(response.response.text, session: state)
                findings += outcome.findings
                text = outcome.text
            }
        } catch {
            return deny(error, context: context)
        }
        state.close()
        let newText = text != response.response.text
        let newCalls = toolCalls != response.response.toolCalls
        guard newText || newCalls else { return annotate(.pass, findings) }
        return annotate(.mutate {
            if newText {
                $0.replaceText = true
                $0.text = text
            }
            if newCalls {
                $0.replaceToolCalls = true
                $0.toolCalls = toolCalls
            }
        }, findings)
    }

    public func onChunk(_ text: String, context: PluginCallContext) throws -> ChunkAction {
        let state = session(context)
        state.sawChunks = true
        do {
            let released = try sanitizer.filterChunk(text, session: state)
            return released == text ? .pass : .replace(released)
        } catch {
            _ = deny(error, context: context)
            return .stop
        }
    }

    // MARK: helpers

    private func deny(_ error: SanitizerDenial, context: PluginCallContext) -> Rampart_V1_Verdict {
        Audit.denied(error, context: context)
        return .deny(code: error.isMalformed ? .invalidArgument : .permissionDenied, message: "sanitizer: \(error.message)")
            .annotated("sanitizer.denied", error.code.rawValue)
    }

    private func annotate(_ verdict: Rampart_V1_Verdict, _ findings: [SanitizerFinding]) -> Rampart_V1_Verdict {
        findings.prefix(16).reduce(verdict) { $0.annotated("sanitizer.\($1.kind)", $1.detail) }
    }
}

extension SanitizerSession {
    private static let chunkKey = "chunks"
    /// Whether the chunk hook saw this call's output (then the unary response is already checked).
    var sawChunks: Bool {
        get { markers.contains(Self.chunkKey) }
        set { if newValue { markers.insert(Self.chunkKey) } else { markers.remove(Self.chunkKey) } }
    }
}

/// The library's one exported symbol.
@_cdecl("rampart_plugin_v1")
public func rampartPluginV1(_ major: UInt16, _ minor: UInt16) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: SanitizerPlugin.self, hostMajor: major, hostMinor: minor)
}
