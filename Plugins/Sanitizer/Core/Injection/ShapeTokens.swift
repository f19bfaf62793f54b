/// Text-shape tokens of the hashed model ("shape v1", mirrored by `shape_tokens` in
/// scripts/train-injection-model.py), computed during the model's single pass over the bytes:
///
/// - `len:B`: B = ⌊log2(bytes + 1)⌋, at most 12;
/// - `lines:B`: B = ⌊log2(newlines + 1)⌋, at most 5;
/// - `imp:N`: N sentences (at most 4) that open with an imperative verb ("write", "translate",
///   "ignore", …). A sentence starts at the text's start and after each run of `.`, `!`, `?` or
///   newline; its first word is the word right after the leading ASCII whitespace;
/// - `imp_late`: at least two such sentences, one starting past 40 % of the text (a task
///   appended after data, the shape of indirect injections);
/// - `you:B`: B = ⌊50 · second-person words / words⌋, at most 5 (text that addresses the model).
struct ShapeTokens: Sendable {
    static let imperativeVerbs = [
        "write", "create", "generate", "translate", "summarize", "summarise", "list", "explain", "describe", "tell", "give",
        "make", "classify", "provide", "find", "identify", "answer", "rewrite", "compose", "print", "say", "output",
        "repeat", "ignore", "forget", "disregard", "act", "pretend", "respond", "reply", "show", "reveal", "edit",
        "correct", "convert", "compare", "name", "select", "categorize", "categorise", "calculate", "suggest", "design",
        "develop", "imagine", "instead", "now", "do", "please", "stop", "start", "begin", "remember", "return", "use",
        "add", "remove", "replace", "change", "produce", "draft", "outline", "analyze", "analyse", "evaluate", "rate",
        "sort", "extract", "determine", "choose", "recommend", "paraphrase", "rephrase",
    ]
    static let secondPerson = ["you", "your", "yours", "yourself"]

    /// Running counts of one pass.
    struct State {
        var expectingStart = true
        var segmentStart = 0
        var newlines = 0
        var imperatives = 0
        var lastImperativeStart = -1
        var secondPerson = 0
    }

    /// Word hashes (FNV-1a-64, namespace 1, as the model's unigrams).
    let imperativeHashes: Set<UInt64>
    let secondPersonHashes: [UInt64]
    /// Feature values of every token, by bucket.
    let lengthValues: [UInt64]
    let lineValues: [UInt64]
    let imperativeValues: [UInt64]
    let lateValue: UInt64
    let secondPersonValues: [UInt64]

    init() {
        func word(_ s: String) -> UInt64 {
            s.utf8.reduce(FNV1a.start(namespace: HashedLinearModel.unigramNamespace)) { FNV1a.step($0, $1) }
        }
        func token(_ s: String) -> UInt64 {
            s.utf8.reduce(FNV1a.start(namespace: HashedLinearModel.shapeNamespace)) { FNV1a.step($0, $1) } &* HashedLinearModel.gold
        }
        imperativeHashes = Set(Self.imperativeVerbs.map(word))
        secondPersonHashes = Self.secondPerson.map(word)
        lengthValues = (0...12).map { token("len:\($0)") }
        lineValues = (0...5).map { token("lines:\($0)") }
        imperativeValues = (0...4).map { token("imp:\($0)") }
        lateValue = token("imp_late")
        secondPersonValues = (0...5).map { token("you:\($0)") }
    }

    /// A non-word byte at offset `index`.
    @inline(__always)
    func separator(_ byte: UInt8, at index: Int, state: inout State) {
        switch byte {
        case 0x2E, 0x21, 0x3F, 0x0A:  // . ! ? newline
            if byte == 0x0A { state.newlines += 1 }
            state.expectingStart = true
            state.segmentStart = index + 1
        case 0x20, 0x09, 0x0D, 0x0B, 0x0C:
            break
        default:
            state.expectingStart = false
        }
    }

    /// A word with hash `u` (model unigram hash).
    @inline(__always)
    func word(_ u: UInt64, state: inout State) {
        if state.expectingStart {
            state.expectingStart = false
            if imperativeHashes.contains(u) {
                state.imperatives += 1
                state.lastImperativeStart = state.segmentStart
            }
        }
        for h in secondPersonHashes where h == u {
            state.secondPerson += 1
            break
        }
    }

    /// Emits the token values of a text of `bytes` bytes and `words` words.
    @inline(__always)
    func finish(_ state: State, bytes: Int, words: Int, _ emit: (UInt64) -> Void) {
        @inline(__always) func log2Bucket(_ n: Int, _ cap: Int) -> Int {
            min(cap, Int.bitWidth - (n + 1).leadingZeroBitCount - 1)
        }
        emit(lengthValues[log2Bucket(bytes, 12)])
        emit(lineValues[log2Bucket(state.newlines, 5)])
        emit(imperativeValues[min(4, state.imperatives)])
        if state.imperatives >= 2 && 10 * state.lastImperativeStart > 4 * bytes { emit(lateValue) }
        emit(secondPersonValues[min(5, 50 * state.secondPerson / max(1, words))])
    }
}
