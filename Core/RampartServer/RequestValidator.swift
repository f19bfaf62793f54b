import RampartCore
import RampartProto

/// Turns a wire `GenerateRequest` into a backend `GenerationRequest`, rejecting anything out of
/// range with INVALID_ARGUMENT and a message that names the field.
struct RequestValidator {
    let limits: RequestLimits
    let vocabularySize: Int

    func validate(_ message: Rampart_V1_GenerateRequest) throws(RPCError) -> GenerationRequest {
        let input: PromptInput
        switch (message.messages.isEmpty, message.prompt.isEmpty) {
        case (true, true): throw invalid("one of messages or prompt must be set")
        case (false, false): throw invalid("set either messages or prompt, not both")
        case (true, false):
            guard message.prompt.utf8.count <= limits.maxPromptBytes else {
                throw invalid("prompt is \(message.prompt.utf8.count) bytes; the limit is \(limits.maxPromptBytes)")
            }
            input = .raw(message.prompt)
        case (false, true):
            guard message.messages.count <= limits.maxMessages else {
                throw invalid("\(message.messages.count) messages; the limit is \(limits.maxMessages)")
            }
            var total = 0
            var turns: [ChatTurn] = []
            turns.reserveCapacity(message.messages.count)
            for (index, m) in message.messages.enumerated() {
                total += m.content.utf8.count
                guard let role = Self.role(m.role) else {
                    throw invalid("messages[\(index)].role is not set or unknown (\(m.role.rawValue))")
                }
                turns.append(ChatTurn(role: role, content: m.content))
            }
            guard total <= limits.maxPromptBytes else {
                throw invalid("messages total \(total) bytes; the limit is \(limits.maxPromptBytes)")
            }
            input = .chat(turns)
        }
        return GenerationRequest(input: input, sampling: try sampling(message.params))
    }

    private func sampling(_ p: Rampart_V1_SamplingParams) throws(RPCError) -> SamplingOptions {
        var s = SamplingOptions()
        if p.maxTokens == 0 {
            s.maxTokens = limits.defaultMaxTokens
        } else {
            guard p.maxTokens <= limits.maxTokens else {
                throw invalid("params.max_tokens \(p.maxTokens) exceeds the server limit \(limits.maxTokens)")
            }
            s.maxTokens = Int(p.maxTokens)
        }
        if case .temperature? = p.optTemperature {
            guard p.temperature.isFinite, (0...2).contains(p.temperature) else {
                throw invalid("params.temperature must be in [0, 2], got \(p.temperature)")
            }
            s.temperature = p.temperature
        }
        if case .topP? = p.optTopP {
            guard p.topP.isFinite, p.topP > 0, p.topP <= 1 else {
                throw invalid("params.top_p must be in (0, 1], got \(p.topP)")
            }
            s.topP = p.topP
        }
        guard p.topK <= 1000 else { throw invalid("params.top_k must be at most 1000, got \(p.topK)") }
        s.topK = Int(p.topK)
        if case .seed(let seed)? = p.optSeed { s.seed = seed }
        guard p.stop.count <= 8 else { throw invalid("at most 8 stop strings, got \(p.stop.count)") }
        for (i, stop) in p.stop.enumerated() {
            guard !stop.isEmpty, stop.utf8.count <= 64 else {
                throw invalid("params.stop[\(i)] must be 1 to 64 bytes")
            }
        }
        s.stop = p.stop
        guard p.topLogprobs <= 20 else { throw invalid("params.top_logprobs must be at most 20, got \(p.topLogprobs)") }
        if p.topLogprobs > 0 && !p.logprobs { throw invalid("params.top_logprobs needs params.logprobs") }
        s.logprobs = p.logprobs
        s.topLogprobs = Int(p.topLogprobs)
        guard p.logitBias.count <= 300 else { throw invalid("at most 300 logit_bias entries, got \(p.logitBias.count)") }
        for (token, bias) in p.logitBias {
            guard bias.isFinite, (-100...100).contains(bias) else {
                throw invalid("params.logit_bias[\(token)] must be in [-100, 100], got \(bias)")
            }
            guard token >= 0, vocabularySize == 0 || Int(token) < vocabularySize else {
                throw invalid("params.logit_bias names token id \(token), outside the vocabulary (\(vocabularySize))")
            }
        }
        s.logitBias = p.logitBias
        return s
    }

    private func invalid(_ message: String) -> RPCError { RPCError(.invalidArgument, message) }

    static func role(_ role: Rampart_V1_Role) -> ChatRole? {
        switch role {
        case .system: .system
        case .user: .user
        case .assistant: .assistant
        case .tool: .tool
        case .retrieved: .retrieved
        case .unspecified, .UNRECOGNIZED: nil
        }
    }
}
