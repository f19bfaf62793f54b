/// Text-shape features of the hashed model ("shape v5", mirrored by `shape_values` and
/// `run_on_tasks` in scripts/train-injection-model.py), computed during the model's single pass
/// over the bytes, except the run-on count (``runOnTasks(_:)``), which reads the surface text.
///
/// A sentence starts at the text's start and after each run of `.`, `!`, `?` or newline; its
/// first word is the word right after the leading ASCII whitespace (a sentence that opens with
/// other punctuation has none). Its start offset `p` (after the run) falls into the third
/// `min(2, 3p / bytes)` of the text.
///
/// Per sentence with a first word (hash `u`, the model's unigram hash), three values:
/// - `(u ^ 0x3333) * MIX`: the word opens a sentence (imperatives, "now", "instead" …);
/// - `(u ^ (0x4444 + third)) * MIX`: the same, in that third of the text (a task that opens the
///   last third of a text is rarer in benign prompts than one that opens it);
/// - `(u ^ (0x8880 + paragraph)) * MIX` (new in v4): the same, in paragraph 0 (the first), 1 or
///   2 (any later one). A paragraph break is whitespace holding at least two newlines after
///   content (leading blank lines open none). A task verb that opens the first paragraph is the
///   user's own task followed by its data; one that opens a paragraph after data is the shape of
///   an appended, indirect instruction.
///
/// Tokens, value `FNV-1a-64(namespace 5, token) * GOLD`, at the end of the pass:
/// - `len:B`: B = ⌊log2(bytes + 1)⌋, at most 12;
/// - `lines:B`: B = ⌊log2(newlines + 1)⌋, at most 5;
/// - `imp:N`: N sentences (at most 4) that open with an imperative verb ("write", "translate",
///   "ignore", "compute", …: the 172 task verbs of ``imperativeVerbs``; shape v2 had the first 73);
/// - `imp_late`: at least two such sentences, one starting past 40 % of the text (a task
///   appended after data, the shape of indirect injections);
/// - `you:B`: B = ⌊50 · second-person words / words⌋, at most 5 (text that addresses the model);
/// - `sw:N`: N task switches (at most 3): sentences that open with an imperative verb after a
///   sentence (with a first word) that did not;
/// - `impthird:T`: one token for each third T of the text in which an imperative sentence
///   starts;
/// - `imppara:Q` (new in v4): one token for each paragraph Q (0, 1, 2 = any later one) in which
///   an imperative sentence starts;
/// - `para:N`: N paragraphs (at most 6): runs of text separated by whitespace that holds at
///   least two newlines (a second task is often a paragraph of its own);
/// - `runon:N` (new in v5): N run-on tasks (at most 2), counted by ``runOnTasks(_:)`` on the
///   surface text, where case is kept.
struct ShapeTokens: Sendable {
    static let imperativeVerbs = [
        "write", "create", "generate", "translate", "summarize", "summarise", "list", "explain", "describe", "tell", "give",
        "make", "classify", "provide", "find", "identify", "answer", "rewrite", "compose", "print", "say", "output",
        "repeat", "ignore", "forget", "disregard", "act", "pretend", "respond", "reply", "show", "reveal", "edit",
        "correct", "convert", "compare", "name", "select", "categorize", "categorise", "calculate", "suggest", "design",
        "develop", "imagine", "instead", "now", "do", "please", "stop", "start", "begin", "remember", "return", "use",
        "add", "remove", "replace", "change", "produce", "draft", "outline", "analyze", "analyse", "evaluate", "rate",
        "sort", "extract", "determine", "choose", "recommend", "paraphrase", "rephrase",
        // Shape v3: more general English task verbs (instruction-writing vocabulary), so that a
        // second task that opens with "compute", "merge", "put" … counts as one.
        "compute", "construct", "highlight", "discuss", "put", "turn", "take", "merge", "assemble", "parse",
        "present", "transform", "brainstorm", "predict", "estimate", "count", "detect", "propose", "formulate", "rank",
        "arrange", "build", "check", "complete", "define", "delete", "divide", "expand", "fill", "fix", "format", "group",
        "guess", "illustrate", "improve", "insert", "interpret", "invent", "label", "match", "modify", "organize",
        "organise", "pick", "plan", "prepare", "rearrange", "reformulate", "reorder", "restate", "reverse", "revise",
        "shorten", "simplify", "solve", "spell", "split", "state", "verify", "assess", "come", "discover", "extrapolate",
        "collect", "cite", "recall", "record", "send", "share", "research", "review", "look", "let", "keep", "get", "go",
        "consider", "focus", "include", "ensure", "avoid", "apply", "assume", "follow", "read", "run", "search", "teach",
        "type", "visit", "fetch", "call", "open", "email", "post", "emit", "append", "disclose", "leak",
    ]
    static let secondPerson = ["you", "your", "yours", "yourself"]
    static let sentenceSalt: UInt64 = 0x3333
    static let thirdSalt: UInt64 = 0x4444
    static let paragraphSalt: UInt64 = 0x8880

    /// Running counts of one pass.
    struct State {
        var expectingStart = true
        var segmentStart = 0
        var newlines = 0
        var imperatives = 0
        var lastImperativeStart = -1
        var secondPerson = 0
        /// Whether the last sentence with a first word opened with an imperative: −1 none yet.
        var previousImperative: Int8 = -1
        var switches = 0
        /// Bit t: an imperative sentence starts in third t.
        var imperativeThirds: UInt8 = 0
        /// Bit q: an imperative sentence starts in paragraph q (2: any later one).
        var imperativeParagraphs: UInt8 = 0
        var paragraphs = 0
        var newlinesSinceContent = 0
    }

    /// Word hashes (FNV-1a-64, namespace 1, as the model's unigrams).
    let imperativeHashes: HashSet64
    /// The four second-person words' hashes, compared at once.
    let secondPersonHashes: SIMD4<UInt64>
    /// Feature values of every token, by bucket.
    let lengthValues: [UInt64]
    let lineValues: [UInt64]
    let imperativeValues: [UInt64]
    let lateValue: UInt64
    let secondPersonValues: [UInt64]
    let switchValues: [UInt64]
    let thirdValues: [UInt64]
    let imperativeParagraphValues: [UInt64]
    let paragraphValues: [UInt64]
    let runOnValues: [UInt64]

    init() {
        func word(_ s: String) -> UInt64 {
            s.utf8.reduce(FNV1a.start(namespace: HashedModel.unigramNamespace)) { FNV1a.step($0, $1) }
        }
        func token(_ s: String) -> UInt64 {
            s.utf8.reduce(FNV1a.start(namespace: HashedModel.shapeNamespace)) { FNV1a.step($0, $1) } &* HashedModel.gold
        }
        imperativeHashes = HashSet64(Self.imperativeVerbs.map(word))
        let you = Self.secondPerson.map(word)
        secondPersonHashes = SIMD4(you[0], you[1], you[2], you[3])
        lengthValues = (0...12).map { token("len:\($0)") }
        lineValues = (0...5).map { token("lines:\($0)") }
        imperativeValues = (0...4).map { token("imp:\($0)") }
        lateValue = token("imp_late")
        secondPersonValues = (0...5).map { token("you:\($0)") }
        switchValues = (0...3).map { token("sw:\($0)") }
        thirdValues = (0...2).map { token("impthird:\($0)") }
        imperativeParagraphValues = (0...2).map { token("imppara:\($0)") }
        paragraphValues = (0...6).map { token("para:\($0)") }
        runOnValues = (0...2).map { token("runon:\($0)") }
    }

    /// The number of run-on tasks in `surface` (the first bytes of the surface text, case kept),
    /// counted up to 2. A run-on task is a task verb of ``imperativeVerbs`` written with a capital
    /// inside a line: an ASCII capital and one or more lower-case ASCII letters, a whole word,
    /// right after one or more spaces or tabs that follow a lower-case letter, a digit, `)`, `]`,
    /// `"`, `'` or `%`. "… at the 2008 Olympics Merge the two sentences", "Sydney Sort the
    /// numbers": a second task run on to the data with no sentence punctuation, the shape of an
    /// appended instruction. One pass, eight bytes at a time: only capitals are looked at.
    func runOnTasks(_ surface: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = surface.baseAddress else { return 0 }
        let n = surface.count
        var count = 0
        var chunk = 0
        while chunk < n {
            // Bit 8k+7 set: byte `chunk + k` is an ASCII capital.
            var capitals: UInt64 = 0
            if chunk + 8 <= n {
                let x = UInt64(littleEndian: UnsafeRawPointer(base + chunk).loadUnaligned(as: UInt64.self))
                capitals = Self.capitals(x)
            } else {
                for k in 0..<(n - chunk) where base[chunk + k] &- 0x41 < 26 { capitals |= 0x80 << UInt64(8 * k) }
            }
            while capitals != 0 {
                let index = chunk + capitals.trailingZeroBitCount / 8
                capitals &= capitals &- 1
                if runOnTask(surface, at: index) {
                    count += 1
                    if count == 2 { return count }
                }
            }
            chunk += 8
        }
        return count
    }

    /// Bit 8k+7 of the result is set when byte k of `x` is an ASCII capital (0x41–0x5A). Each
    /// byte's subtractions start from byte | 0x80 ≥ 0x80 and take at most 0x5B: no borrow
    /// crosses into the next byte.
    @inline(__always)
    static func capitals(_ x: UInt64) -> UInt64 {
        let high: UInt64 = 0x8080_8080_8080_8080
        let atLeastA = (x | high) &- 0x4141_4141_4141_4141
        let pastZ = (x | high) &- 0x5B5B_5B5B_5B5B_5B5B
        return atLeastA & ~pastZ & ~x & high
    }

    /// Whether the capital at `index` opens a run-on task (see ``runOnTasks(_:)``).
    @inline(__always)
    private func runOnTask(_ surface: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index > 0, surface[index - 1] == 0x20 || surface[index - 1] == 0x09 else { return false }
        // The byte before the run of spaces and tabs.
        var before = index - 1
        while before > 0 && (surface[before] == 0x20 || surface[before] == 0x09) { before -= 1 }
        guard Self.endsData(surface[before]) else { return false }
        let n = surface.count
        var end = index + 1
        var u = FNV1a.step(FNV1a.start(namespace: HashedModel.unigramNamespace), surface[index] | 0x20)
        while end < n && surface[end] &- 0x61 < 26 {
            u = FNV1a.step(u, surface[end])
            end += 1
        }
        guard end > index + 1, end == n || !HashedModel.isWordByte(surface[end]) else { return false }
        return imperativeHashes.contains(u)
    }

    /// A byte that may end the data a run-on task follows: `[a-z0-9)\]"'%]`.
    @inline(__always)
    static func endsData(_ byte: UInt8) -> Bool {
        byte &- 0x61 < 26 || byte &- 0x30 < 10 || byte == 0x29 || byte == 0x5D || byte == 0x22 || byte == 0x27 || byte == 0x25
    }

    /// A byte that is neither a word byte nor ASCII whitespace opens a paragraph after a break.
    @inline(__always)
    private func content(state: inout State) {
        if state.paragraphs == 0 || state.newlinesSinceContent >= 2 { state.paragraphs += 1 }
        state.newlinesSinceContent = 0
    }

    /// A non-word byte at offset `index`.
    @inline(__always)
    func separator(_ byte: UInt8, at index: Int, state: inout State) {
        switch byte {
        case 0x0A:
            state.newlines += 1
            state.newlinesSinceContent += 1
            state.expectingStart = true
            state.segmentStart = index + 1
        case 0x2E, 0x21, 0x3F:  // . ! ?
            content(state: &state)
            state.expectingStart = true
            state.segmentStart = index + 1
        case 0x20, 0x09, 0x0D, 0x0B, 0x0C:
            break
        default:
            content(state: &state)
            state.expectingStart = false
        }
    }

    /// The three sentence values of a sentence whose first word has hash `u`, starting in `third`
    /// of the text and in paragraph `paragraph` (0 for the first; capped at 2 by the caller).
    @inline(__always)
    static func sentenceValues(_ u: UInt64, third: Int, paragraph: Int) -> (UInt64, UInt64, UInt64) {
        (
            (u ^ sentenceSalt) &* HashedModel.mix, (u ^ (thirdSalt &+ UInt64(truncatingIfNeeded: third))) &* HashedModel.mix,
            (u ^ (paragraphSalt &+ UInt64(truncatingIfNeeded: paragraph))) &* HashedModel.mix
        )
    }

    /// The paragraph (0, 1, or 2 for any later one) of the word just passed to ``word(_:bytes:state:)``.
    @inline(__always)
    static func paragraph(_ state: State) -> Int { min(2, max(0, state.paragraphs - 1)) }

    /// A word with hash `u` (model unigram hash) in a text of `bytes` bytes. When it opens a
    /// sentence, returns the third of the text the sentence starts in (the caller then emits
    /// ``sentenceValues(_:third:paragraph:)``, in that order, right after the word's unigram and bigram);
    /// otherwise -1. The caller's sink never passes through here, so the feature loop keeps its
    /// running sum in registers.
    @inline(__always)
    func word(_ u: UInt64, bytes: Int, state: inout State) -> Int {
        content(state: &state)
        var opened = -1
        if state.expectingStart {
            state.expectingStart = false
            let third = min(2, 3 * state.segmentStart / max(1, bytes))
            opened = third
            let imperative = imperativeHashes.contains(u)
            if imperative {
                state.imperatives += 1
                state.lastImperativeStart = state.segmentStart
                state.imperativeThirds |= 1 << UInt8(third)
                state.imperativeParagraphs |= 1 << UInt8(Self.paragraph(state))
                if state.previousImperative == 0 { state.switches += 1 }
            }
            state.previousImperative = imperative ? 1 : 0
        }
        state.secondPerson &+= any(secondPersonHashes .== SIMD4(repeating: u)) ? 1 : 0
        return opened
    }

    /// Emits the token values of a text of `bytes` bytes and `words` words, with `runOnTasks`
    /// from ``runOnTasks(_:)``.
    @inline(__always)
    func finish<Sink: FeatureSink>(_ state: State, bytes: Int, words: Int, runOnTasks: Int, into sink: inout Sink) {
        @inline(__always) func log2Bucket(_ n: Int, _ cap: Int) -> Int {
            min(cap, Int.bitWidth - (n + 1).leadingZeroBitCount - 1)
        }
        sink.add(lengthValues[log2Bucket(bytes, 12)])
        sink.add(lineValues[log2Bucket(state.newlines, 5)])
        sink.add(imperativeValues[min(4, state.imperatives)])
        if state.imperatives >= 2 && 10 * state.lastImperativeStart > 4 * bytes { sink.add(lateValue) }
        sink.add(secondPersonValues[min(5, 50 * state.secondPerson / max(1, words))])
        sink.add(switchValues[min(3, state.switches)])
        for third in 0..<3 where state.imperativeThirds & (1 << UInt8(third)) != 0 { sink.add(thirdValues[third]) }
        for q in 0..<3 where state.imperativeParagraphs & (1 << UInt8(q)) != 0 { sink.add(imperativeParagraphValues[q]) }
        sink.add(paragraphValues[min(6, state.paragraphs)])
        sink.add(runOnValues[min(2, max(0, runOnTasks))])
    }
}
