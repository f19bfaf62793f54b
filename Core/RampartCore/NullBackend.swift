/// A backend that echoes its prompt back: no model, no blocking work.
///
/// Used by benchmarks to measure Rampart's own overhead (`backend.kind = "null"`), and by
/// tests. A raw prompt is echoed verbatim; a chat echoes the last message's content.
/// `maxTokens` bounds the number of whitespace-separated pieces emitted.
public struct NullBackend: InferenceBackend {
    public let model = ModelDescriptor(name: "null", version: "1", backend: "null", contextLength: 1 << 20, vocabularySize: 0)
    public let execution = BackendExecution.inline

    public init() {}

    public func countPromptTokens(_ input: PromptInput) -> Int {
        Self.countPieces(Self.text(of: input))
    }

    public func generate(_ request: GenerationRequest, sink: TokenSink) throws -> GenerationResult {
        let text = Self.text(of: request.input)
        let count = Self.countPieces(text)
        // Fast path: one token carrying the whole echo when it fits the budget.
        if count <= request.sampling.maxTokens {
            if !text.isEmpty, !sink(GeneratedToken(id: 0, text: text, logprob: request.sampling.logprobs ? 0 : nil)) {
                return GenerationResult(finish: .cancelled, promptTokens: count, completionTokens: 1)
            }
            return GenerationResult(finish: .stop, promptTokens: count, completionTokens: count)
        }
        let pieces = Self.pieces(of: text)
        var emitted = 0
        for piece in pieces.prefix(request.sampling.maxTokens) {
            emitted += 1
            if !sink(GeneratedToken(id: 0, text: String(piece), logprob: request.sampling.logprobs ? 0 : nil)) {
                return GenerationResult(finish: .cancelled, promptTokens: pieces.count, completionTokens: emitted)
            }
        }
        return GenerationResult(finish: .length, promptTokens: pieces.count, completionTokens: emitted)
    }

    private static func text(of input: PromptInput) -> String {
        switch input {
        case .raw(let text): text
        case .chat(let turns): turns.last?.content ?? ""
        }
    }

    /// The number of pieces ``pieces(of:)`` would return, counted on UTF-8 bytes.
    private static func countPieces(_ text: String) -> Int {
        guard !text.isEmpty else { return 0 }
        var text = text
        return text.withUTF8 { bytes in
            var count = 1
            var previous: UInt8 = 0
            for byte in bytes {
                count &+= (previous == 0x20 && byte != 0x20) ? 1 : 0
                previous = byte
            }
            return count
        }
    }

    /// Splits after each run of spaces so that the pieces concatenate back to the text.
    private static func pieces(of text: String) -> [Substring] {
        var out: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        var sawSpace = false
        while index < text.endIndex {
            let isSpace = text[index] == " "
            if sawSpace && !isSpace {
                out.append(text[start..<index])
                start = index
            }
            sawSpace = isSpace
            index = text.index(after: index)
        }
        if start < text.endIndex { out.append(text[start...]) }
        return out
    }
}
