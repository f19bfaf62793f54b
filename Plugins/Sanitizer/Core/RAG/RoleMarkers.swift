/// Chat-template role markers: text that, inside retrieved documents or tool output, tries to
/// open a new turn (system/user/assistant) in the model's prompt format. Matched with Hyperscan,
/// case-insensitively, on the detection form (so zero-width splits and homoglyphs do not hide
/// them).
public struct RoleMarkers: Sendable {
    /// The marker expressions (ChatML, Llama 2/3, Gemma, Mistral, Phi, Alpaca/Vicuna headings,
    /// OpenAI harmony, Vigil's literal markers).
    public static let expressions: [String] = [
        #"<\|im_start\|>"#, #"<\|im_end\|>"#, #"<\|im_sep\|>"#,
        #"<\|(system|user|assistant|end|endoftext|tool|function|ipython)\|>"#,
        #"<\|(start_header_id|end_header_id|eot_id|begin_of_text|eom_id|python_tag)\|>"#,
        #"<\|(start|channel|message|return|call|constrain)\|>"#,
        #"\[/?INST\]"#, #"<</?SYS>>"#, #"<s>\s*\[INST\]"#,
        #"<start_of_turn>"#, #"<end_of_turn>"#,
        #"(^|\n)\s{0,8}#{2,4}\s{0,4}(system|instruction|instructions|response|human|assistant|user|input)\s{0,4}:"#,
        #"(^|\n)\s{0,8}(system|assistant|human)\s{0,2}:\s"#,
        #"\[system\]\(#(assistant|context|user)\)"#, #"\{\{[#/]system~?\}\}"#, #"system instruction:\s"#,
        #"<\|?(fim_prefix|fim_suffix|fim_middle)\|?>"#,
    ]

    private let database: PatternDatabase

    public init() throws(PatternError) {
        database = try PatternDatabase(Self.expressions.enumerated().map { index, expression in
            PatternSpec(expression, id: UInt32(index), caseless: true)
        })
    }

    /// The marker matches in `text` (byte ranges of its UTF-8), in order, non-overlapping.
    public func find(in text: String) throws(PatternError) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        try database.scan(text) { _, from, to in
            ranges.append(from..<to)
            return ranges.count < 10_000
        }
        ranges.sort { $0.lowerBound < $1.lowerBound || ($0.lowerBound == $1.lowerBound && $0.count > $1.count) }
        var out: [Range<Int>] = []
        for r in ranges {
            if let last = out.last, r.lowerBound < last.upperBound {
                if r.upperBound > last.upperBound { out[out.count - 1] = last.lowerBound..<r.upperBound }
                continue
            }
            out.append(r)
        }
        return out
    }

    /// Whether `text` (raw or detection form) contains a marker.
    public func containsMarker(_ text: String) throws(PatternError) -> Bool {
        try containsMarker(text) { UnicodeHygiene.detectionForm(text) }
    }

    /// ``containsMarker(_:)``, asking `detectionForm` for the detection form of `text` only if
    /// the raw text holds no marker (the caller may have it already).
    func containsMarker(_ text: String, detectionForm: () -> String) throws(PatternError) -> Bool {
        if try database.matches(text) { return true }
        let folded = detectionForm()
        return folded != text ? try database.matches(folded) : false
    }

    /// `text` with each marker replaced by `[role marker removed]` (on the detection form when
    /// the raw text hides a marker, since then positions differ).
    public func neutralize(_ text: String) throws(PatternError) -> String {
        var working = text
        if try find(in: working).isEmpty {
            let folded = UnicodeHygiene.detectionForm(text)
            guard try !find(in: folded).isEmpty else { return text }
            working = folded
        }
        let ranges = try find(in: working)
        let bytes = Array(working.utf8)
        var out: [UInt8] = []
        var cursor = 0
        for r in ranges {
            out.append(contentsOf: bytes[cursor..<r.lowerBound])
            // Keep the line break a heading marker started with.
            if bytes[r.lowerBound] == 0x0A { out.append(0x0A) }
            out.append(contentsOf: Array("[role marker removed]".utf8))
            cursor = r.upperBound
        }
        out.append(contentsOf: bytes[cursor...])
        return String(decoding: out, as: UTF8.self)
    }
}
