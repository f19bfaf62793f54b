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

    /// The number of pieces ``pieces(of:)`` would return, counted on UTF-8 bytes: 1 plus the
    /// number of non-space bytes that follow a space. Sixteen bytes at a time (SIMD): the
    /// benchmark backend must not cost more than the protocol it measures.
    static func countPieces(_ text: String) -> Int {
        guard !text.isEmpty else { return 0 }
        var text = text
        return text.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            let space = SIMD16<UInt8>(repeating: 0x20)
            var starts = 0
            var index = 1  // a piece starts at byte i ≥ 1 when byte i-1 is a space and byte i is not
            while index + 16 <= bytes.count {
                // Per-lane counts stay below 256: flush them every 255 vectors.
                var lanes = SIMD16<UInt8>()
                let stop = min(bytes.count, index + 16 * 255)
                while index + 16 <= stop {
                    let current = raw.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
                    let previous = raw.loadUnaligned(fromByteOffset: index - 1, as: SIMD16<UInt8>.self)
                    lanes &+= SIMD16<UInt8>().replacing(with: 1, where: (previous .== space) .& (current .!= space))
                    index += 16
                }
                starts += Int(SIMD16<UInt16>(truncatingIfNeeded: lanes).wrappedSum())
            }
            while index < bytes.count {
                starts &+= (bytes[index - 1] == 0x20 && bytes[index] != 0x20) ? 1 : 0
                index += 1
            }
            return 1 + starts
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
