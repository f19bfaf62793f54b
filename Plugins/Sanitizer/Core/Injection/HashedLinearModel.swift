/// The learned part of the detector: logistic regression over signed, hashed word unigrams,
/// word bigrams, word affixes and a few text-shape tokens of the normalised text. One pass over
/// the bytes, O(1) work per byte.
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
/// - shape tokens (``ShapeTokens``): value `FNV-1a-64(namespace 5, token) * GOLD`;
/// - each value `r` adds `sign * w[r >> (64 - bits)]`, sign = −1 when bit 40 of `r` is set;
/// - logit = bias + sum / sqrt(number of values) (bias alone for no values).
struct HashedLinearModel: Sendable {
    static let unigramNamespace: UInt8 = 1
    static let shapeNamespace: UInt8 = 5
    static let gold: UInt64 = 0x9E37_79B9_7F4A_7C15
    static let mix: UInt64 = 0xBF58_476D_1CE4_E5B9
    static let prefixSalt: UInt64 = 0x1111
    static let suffixSalt: UInt64 = 0x2222

    let weights: [Float]
    let shift: UInt64
    let bias: Double
    let maxAnalysedBytes: Int
    let shape: ShapeTokens

    init(weights: [Float], bucketsLog2: Int, bias: Double, maxAnalysedBytes: Int) {
        self.weights = weights
        self.shift = UInt64(64 - bucketsLog2)
        self.bias = bias
        self.maxAnalysedBytes = maxAnalysedBytes
        self.shape = ShapeTokens()
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

    /// The model's logit for a normalised text, and the number of hashed features it summed.
    func logit(normalized: String) -> (logit: Double, features: Int) {
        var text = normalized
        return text.withUTF8 { utf8 in
            logit(bytes: UnsafeBufferPointer(rebasing: utf8.prefix(maxAnalysedBytes)))
        }
    }

    func logit(bytes: UnsafeBufferPointer<UInt8>) -> (logit: Double, features: Int) {
        logit(bytes: bytes, words: nil).logit
    }

    /// ``logit(bytes:)``; when `words` is given (room for `bytes.count / 2 + 1` spans), the
    /// words' byte ranges are written there in order. Also returns the number of words.
    func logit(
        bytes: UnsafeBufferPointer<UInt8>, words: UnsafeMutablePointer<Range<Int>>?
    ) -> (logit: (logit: Double, features: Int), words: Int) {
        var sum = 0.0
        var count = 0
        let shift = self.shift
        let wordCount = weights.withUnsafeBufferPointer { w in
            forEachValue(bytes, words: words) { value in
                let weight = Double(w[Int(truncatingIfNeeded: value >> shift)])
                sum += (value >> 40) & 1 == 1 ? -weight : weight
                count += 1
            }
        }
        guard count > 0 else { return ((bias, 0), wordCount) }
        return ((bias + sum / Double(count).squareRoot(), count), wordCount)
    }

    /// Calls `add` with every feature value of `bytes` (see the type's documentation), in one
    /// pass: words, bigrams and affixes as the bytes stream by, the shape tokens at the end.
    /// Returns the number of words; with `spans`, writes each word's byte range there.
    @inline(__always)
    @discardableResult
    func forEachValue(_ bytes: UnsafeBufferPointer<UInt8>, words spans: UnsafeMutablePointer<Range<Int>>? = nil, _ add: (UInt64) -> Void) -> Int {
        let gold = Self.gold
        var state = ShapeTokens.State()
        var previous: UInt64 = 0
        var words = 0
        var index = 0
        let n = bytes.count
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
            add(u &* gold)
            if words > 0 { add(((previous &* gold) ^ u) &* Self.mix) }
            shape.word(u, state: &state)
            if index - start >= 4 {
                let prefix = 0x2000_0000 | UInt64(bytes[start]) << 16 | UInt64(bytes[start + 1]) << 8 | UInt64(bytes[start + 2])
                let suffix = UInt64(bytes[index - 3]) << 24 | UInt64(bytes[index - 2]) << 16 | UInt64(bytes[index - 1]) << 8 | 0x20
                add((prefix ^ Self.prefixSalt) &* gold)
                add((suffix ^ Self.suffixSalt) &* gold)
            }
            previous = u
            spans?[words] = start..<index
            words += 1
        }
        shape.finish(state, bytes: n, words: words, add)
        return words
    }
}
