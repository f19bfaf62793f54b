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
    /// number of non-space bytes that follow a space. Eight bytes at a time (SWAR): the benchmark
    /// backend must not cost more than the protocol it measures.
    static func countPieces(_ text: String) -> Int {
        guard !text.isEmpty else { return 0 }
        var text = text
        return text.withUTF8 { bytes in
            let high: UInt64 = 0x8080_8080_8080_8080
            let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
            let spaces: UInt64 = 0x2020_2020_2020_2020
            var count = 1
            var previousWasSpace: UInt64 = 0  // bit 7 set when the byte before this word is a space
            var index = 0
            let raw = UnsafeRawBufferPointer(bytes)
            while index + 8 <= bytes.count {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                // Bit 7 of each byte set exactly where the byte is 0x20 (no false positives).
                let x = word ^ spaces
                let isSpace = ~(((x & low7) &+ low7) | x | low7) & high
                // A space in byte i-1 and none in byte i: shift the space mask up one byte.
                let before = (isSpace << 8) | previousWasSpace
                count &+= (before & ~isSpace & high).nonzeroBitCount
                previousWasSpace = (isSpace >> 56) & 0x80
                index += 8
            }
            var previous: UInt8 = previousWasSpace != 0 ? 0x20 : 0
            while index < bytes.count {
                let byte = bytes[index]
                count &+= (previous == 0x20 && byte != 0x20) ? 1 : 0
                previous = byte
                index += 1
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
