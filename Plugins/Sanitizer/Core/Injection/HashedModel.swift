/// The learned part of the detector: a small wide-and-deep network over signed, hashed word
/// unigrams, word bigrams, word affixes, sentence openers and a few text-shape tokens of the
/// normalised text. One pass over the bytes, O(1) work per byte.
///
/// Every bucket holds a row of floats: its linear weight, then (row 8) the weights of 7 ReLU
/// hidden units. With `s = Σ sign · row / √(number of values)`:
/// `logit = bias + s[0] + Σ_j out[j] · max(0, s[1 + j] + hiddenBias[j])`. Row 1 is plain logistic
/// regression. A row of 8 floats is 32 bytes: one cache line per value, as for the linear model.
///
/// Features (identical in scripts/train-injection-model.py, "rampart-hash-v3"; arithmetic mod 2^64):
/// - bytes: the first `maxAnalysedBytes` UTF-8 bytes of the normalised text;
/// - words: maximal runs of bytes in `[0-9A-Za-z]` or `>= 0x80`; `u` = FNV-1a-64 over namespace
///   byte 1 then the word;
/// - unigram value `u * GOLD`; bigram value `((u_prev * GOLD) ^ u) * MIX`;
/// - affixes of a word of at least 4 bytes: `" "` + its first 3 bytes and its last 3 bytes +
///   `" "`, each read big-endian as a 32-bit `key`; values `(key ^ 0x1111) * GOLD` (prefix) and
///   `(key ^ 0x2222) * GOLD` (suffix). These are the word-boundary byte 4-grams of the joined
///   words; all of its 4-grams gave the same out-of-fold quality with twice the features;
/// - shape features (``ShapeTokens``, "shape v5"): three values per sentence from its first word
///   (`(u ^ 0x3333) * MIX`, `(u ^ (0x4444 + third of the text)) * MIX` and
///   `(u ^ (0x8880 + paragraph, at most 2)) * MIX`), and tokens with value
///   `FNV-1a-64(namespace 5, token) * GOLD` (length, lines, imperative sentences and where they
///   start, task switches, paragraphs, second person, and the run-on tasks that
///   ``ShapeTokens/runOnTasks(_:)`` counts in the surface text);
/// - each value `r` adds `sign * row[r >> (64 - bits)]`, sign = −1 when bit 40 of `r` is set.
///
/// The same word loop counts the text's word 4-grams found in the ``KnownAttackMemory`` (the
/// known-attack fraction, a combiner input of its own, not a feature of the network).
struct HashedModel: Sendable {
    static let unigramNamespace: UInt8 = 1
    static let shapeNamespace: UInt8 = 5
    static let gold: UInt64 = 0x9E37_79B9_7F4A_7C15
    static let mix: UInt64 = 0xBF58_476D_1CE4_E5B9
    static let prefixSalt: UInt64 = 0x1111
    static let suffixSalt: UInt64 = 0x2222
    /// Floats per bucket of the network: the linear weight and 7 hidden units.
    static let hiddenRow = 8

    /// `row << bits` floats, bucket-major.
    let weights: [Float]
    /// 1 (linear) or ``hiddenRow``.
    let row: Int
    let shift: UInt64
    let bias: Double
    /// Hidden units' biases and output weights (`row - 1` each).
    let hiddenBias: SIMD8<Double>
    let hiddenOut: SIMD8<Double>
    let maxAnalysedBytes: Int
    let shape: ShapeTokens
    /// The known attacks whose word 4-grams the word loop looks up.
    let memory: KnownAttackMemory

    /// A scan's reading of the model: its logit, the number of hashed features it summed, and
    /// the text's known-attack fraction (``KnownAttackMemory/fraction(hits:words:)``).
    typealias Reading = (logit: Double, features: Int, knownAttacks: Double)

    /// A linear model when `hiddenBias` is empty; otherwise `weights` holds rows of
    /// ``hiddenRow`` floats and `hiddenBias` and `hiddenOut` hold `hiddenRow - 1` values each
    /// (the artifact loader checks this; other sizes fall back to the linear reading).
    init(
        weights: [Float], bucketsLog2: Int, bias: Double, hiddenBias: [Double] = [], hiddenOut: [Double] = [],
        maxAnalysedBytes: Int, memory: KnownAttackMemory = .empty
    ) {
        let hidden = hiddenBias.count == Self.hiddenRow - 1 && hiddenOut.count == Self.hiddenRow - 1
            && weights.count == Self.hiddenRow << bucketsLog2
        self.weights = weights
        self.row = hidden ? Self.hiddenRow : 1
        self.shift = UInt64(64 - bucketsLog2)
        self.bias = bias
        // Lane 0 is the linear term: bias 0 and no activation (handled in `logit`).
        var b = SIMD8<Double>(repeating: 0)
        var o = SIMD8<Double>(repeating: 0)
        if hidden {
            for j in 0..<(Self.hiddenRow - 1) {
                b[j + 1] = hiddenBias[j]
                o[j + 1] = hiddenOut[j]
            }
        }
        self.hiddenBias = b
        self.hiddenOut = o
        self.maxAnalysedBytes = maxAnalysedBytes
        self.shape = ShapeTokens()
        self.memory = memory
    }

    /// A word byte: `[0-9A-Za-z]` or `>= 0x80`. ASCII bytes are tested against two 64-bit masks
    /// (bytes 0–63: the digits; 64–127: the letters), one shift instead of a comparison chain
    /// (InjectionFastPathTests checks all 256 bytes).
    @inline(__always)
    static func isWordByte(_ byte: UInt8) -> Bool {
        if byte >= 0x80 { return true }
        let mask: UInt64 = byte < 0x40 ? 0x03FF_0000_0000_0000 : 0x07FF_FFFE_07FF_FFFE
        return (mask >> UInt64(byte & 63)) & 1 != 0
    }

    /// The model's reading of a text given as its surface form (case kept) and its normalised form.
    func logit(normalized: String, surface: String) -> Reading {
        var text = normalized
        return text.withUTF8 { utf8 in
            logit(bytes: UnsafeBufferPointer(rebasing: utf8.prefix(maxAnalysedBytes)), runOnTasks: runOnTasks(surface: surface))
        }
    }

    /// ``ShapeTokens/runOnTasks(_:)`` of the first `maxAnalysedBytes` bytes of a surface text.
    func runOnTasks(surface: String) -> Int {
        var text = surface
        return text.withUTF8 { shape.runOnTasks(UnsafeBufferPointer(rebasing: $0.prefix(maxAnalysedBytes))) }
    }

    /// The reading of normalised `bytes` whose surface text has `runOnTasks` run-on tasks.
    func logit(bytes: UnsafeBufferPointer<UInt8>, runOnTasks: Int) -> Reading {
        logit(bytes: bytes, runOnTasks: runOnTasks, words: nil).logit
    }

    /// ``logit(bytes:runOnTasks:)``; when `words` is given (room for `bytes.count / 2 + 1`
    /// spans), the words' byte ranges are written there in order. Also returns the number of words.
    func logit(
        bytes: UnsafeBufferPointer<UInt8>, runOnTasks: Int, words: UnsafeMutablePointer<Range<Int>>?
    ) -> (logit: Reading, words: Int) {
        if row == 1 {
            var sink = LinearSink(shift: shift)
            let pass = weights.withUnsafeBufferPointer { w in
                sink.weights = w
                return forEachValue(bytes, runOnTasks: runOnTasks, words: words, into: &sink)
            }
            guard sink.count > 0 else { return ((bias, 0, pass.knownAttacks), pass.words) }
            return ((bias + sink.sum / Double(sink.count).squareRoot(), sink.count, pass.knownAttacks), pass.words)
        }
        // Rows of 8 floats: one 32-byte load and one 8-lane Float add per value; Double from there on.
        var count = 0
        var sum = SIMD8<Float>(repeating: 0)
        let pass = weights.withUnsafeBufferPointer { w in
            // Never empty here (init takes rows of 8 only for a full table); no table, no sum.
            guard let base = w.baseAddress else {
                var counter = CountingSink()
                return forEachValue(bytes, runOnTasks: runOnTasks, words: words, into: &counter)
            }
            return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: BatchedRowSink.capacity) { queue in
                guard let queue = queue.baseAddress else {
                    var sink = RowSink(shift: shift)
                    sink.base = UnsafeRawPointer(base)
                    let pass = forEachValue(bytes, runOnTasks: runOnTasks, words: words, into: &sink)
                    (count, sum) = (sink.count, sink.sum)
                    return pass
                }
                var sink = BatchedRowSink(shift: shift, base: UnsafeRawPointer(base), queue: queue)
                let pass = forEachValue(bytes, runOnTasks: runOnTasks, words: words, into: &sink)
                sink.flush()
                (count, sum) = (sink.count, sink.sum)
                return pass
            }
        }
        let total = SIMD8<Double>(Double(sum[0]), Double(sum[1]), Double(sum[2]), Double(sum[3]),
                                  Double(sum[4]), Double(sum[5]), Double(sum[6]), Double(sum[7]))
        let s = count > 0 ? total / Double(count).squareRoot() : total
        // Lane 0 (linear) is added as is; lanes 1… pass through the ReLU (lane 0's output weight is 0).
        var hidden = s + hiddenBias
        hidden.replace(with: 0, where: hidden .< 0)
        let logit = bias + s[0] + (hidden * hiddenOut).sum()  // hiddenOut[0] is 0
        return ((logit, count, pass.knownAttacks), pass.words)
    }

    /// The most values one word adds (unigram, bigram, three sentence values, two affixes).
    static let maxValuesPerWord = 7

    /// The affix keys of the word `start..<end` of `bytes`, byte by byte: `" "` + its first three
    /// bytes and its last three bytes + `" "`, big-endian (offsets clamped into the word, so a
    /// word shorter than four bytes, whose keys are not counted, reads only its own bytes).
    @inline(__always)
    static func affixKeysByByte(_ bytes: UnsafeBufferPointer<UInt8>, start: Int, end: Int) -> (prefix: UInt64, suffix: UInt64) {
        let last = end - 1
        let prefix = 0x2000_0000 | UInt64(bytes[start]) << 16 | UInt64(bytes[min(start + 1, last)]) << 8
            | UInt64(bytes[min(start + 2, last)])
        let suffix = UInt64(bytes[max(end - 3, start)]) << 24 | UInt64(bytes[max(end - 2, start)]) << 16
            | UInt64(bytes[last]) << 8 | 0x20
        return (prefix, suffix)
    }

    /// ``affixKeysByByte(_:start:end:)`` with two 4-byte loads, for a buffer of `count` ≥ 4
    /// bytes: the first four bytes from `start` and the last four before `end`, each load moved
    /// into the buffer when it would leave it. For a word of at least four bytes neither load
    /// moves (`start + 4 ≤ end ≤ count`), so its keys are the byte-by-byte keys; a shorter word's
    /// keys may differ, but they are never counted (InjectionFeatureTests compares both).
    @inline(__always)
    static func affixKeys(_ base: UnsafeRawPointer, count: Int, start: Int, end: Int) -> (prefix: UInt64, suffix: UInt64) {
        let head = UInt32(bigEndian: base.loadUnaligned(fromByteOffset: min(start, count - 4), as: UInt32.self))
        let tail = UInt32(bigEndian: base.loadUnaligned(fromByteOffset: max(end - 4, 0), as: UInt32.self))
        return (0x2000_0000 | UInt64(head >> 8), UInt64(tail << 8) | 0x20)
    }

    /// What the word loop counted besides the feature values.
    struct WordPass {
        var words = 0
        /// Word 4-grams found in ``memory``.
        var knownHits = 0
        /// ``KnownAttackMemory/fraction(hits:words:)``.
        var knownAttacks: Double { KnownAttackMemory.fraction(hits: knownHits, words: words) }
    }

    /// Calls `add` with every feature value of `bytes`, in order (``forEachValue(_:runOnTasks:words:into:)``
    /// with a closure; the tests read the values through it).
    @discardableResult
    func forEachValue(
        _ bytes: UnsafeBufferPointer<UInt8>, runOnTasks: Int, words spans: UnsafeMutablePointer<Range<Int>>? = nil,
        _ add: (UInt64) -> Void
    ) -> WordPass {
        withoutActuallyEscaping(add) { add in
            var sink = ClosureSink(body: add)
            return forEachValue(bytes, runOnTasks: runOnTasks, words: spans, into: &sink)
        }
    }

    /// Passes every feature value of normalised `bytes` (see the type's documentation) to `sink`,
    /// in one pass: words, bigrams and affixes as the bytes stream by, the shape tokens at the end
    /// (with `runOnTasks`, counted on the surface text by ``ShapeTokens/runOnTasks(_:)``).
    /// Returns the number of words and of known-attack 4-grams (the word hashes of the last three
    /// words are kept for the key); with `spans`, writes each word's byte range there. Generic
    /// over the sink (not a closure) so that the specialised loop keeps the running sum in
    /// registers instead of calling a closure that reloads it from memory for every value.
    @inline(__always)
    @discardableResult
    func forEachValue<Sink: FeatureSink>(
        _ bytes: UnsafeBufferPointer<UInt8>, runOnTasks: Int, words spans: UnsafeMutablePointer<Range<Int>>? = nil,
        into sinkOut: inout Sink
    ) -> WordPass {
        let gold = Self.gold
        // A local copy of the sink (written back at the end): nothing else sees it during the
        // loop, so its running sum can stay in registers.
        var sink = sinkOut
        defer { sinkOut = sink }
        var state = ShapeTokens.State()
        var previous: UInt64 = 0
        // The hashes of the words before `previous` (oldest first), for the 4-gram keys.
        var older: (UInt64, UInt64) = (0, 0)
        var known = 0
        var words = 0
        var index = 0
        let n = bytes.count
        // Buffers of at least four bytes read a word's affixes with two 4-byte loads (below).
        let raw = n >= 4 ? UnsafeRawPointer(bytes.baseAddress) : nil
        while index < n {
            let byte = bytes[index]
            guard Self.isWordByte(byte) else {
                shape.separator(byte, at: index, state: &state)
                index += 1
                continue
            }
            let start = index
            var u = FNV1a.start(namespace: Self.unigramNamespace)
            while index < n {
                let b = bytes[index]
                guard Self.isWordByte(b) else { break }
                u = FNV1a.step(u, b)
                index += 1
            }
            // At most seven values per word: one room check for all of them.
            sink.reserve(Self.maxValuesPerWord)
            sink.addReserved(u &* gold)
            sink.addReserved(((previous &* gold) ^ u) &* Self.mix, if: words > 0)
            let third = shape.word(u, bytes: n, state: &state)
            if third >= 0 {
                let (opener, placed, paragraph) = ShapeTokens.sentenceValues(
                    u, third: third, paragraph: ShapeTokens.paragraph(state))
                sink.addReserved(opener)
                sink.addReserved(placed)
                sink.addReserved(paragraph)
            }
            // The affixes of a word of at least 4 bytes, computed for every word and counted only
            // for those: the length test is as unpredictable as word lengths, a select is not.
            let prefix: UInt64, suffix: UInt64
            if let raw {
                (prefix, suffix) = Self.affixKeys(raw, count: n, start: start, end: index)
            } else {
                (prefix, suffix) = Self.affixKeysByByte(bytes, start: start, end: index)
            }
            let long = index - start >= 4
            sink.addReserved((prefix ^ Self.prefixSalt) &* gold, if: long)
            sink.addReserved((suffix ^ Self.suffixSalt) &* gold, if: long)
            if words >= KnownAttackMemory.ngram - 1 && memory.contains(KnownAttackMemory.key(older.0, older.1, previous, u)) {
                known += 1
            }
            older = (older.1, previous)
            previous = u
            spans?[words] = start..<index
            words += 1
        }
        shape.finish(state, bytes: n, words: words, runOnTasks: runOnTasks, into: &sink)
        return WordPass(words: words, knownHits: known)
    }
}
