import Foundation

/// One labelled example of an evaluation set (a line of a JSONL file: text, label, source,
/// category; label "injection" is positive, anything else negative).
public struct InjectionExample: Sendable, Decodable {
    public let text: String
    public let label: String
    public let source: String
    public let category: String

    public init(text: String, label: String, source: String, category: String) {
        self.text = text
        self.label = label
        self.source = source
        self.category = category
    }

    enum CodingKeys: String, CodingKey { case text, label, source, category }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        text = try c.decode(String.self, forKey: .text)
        label = try c.decode(String.self, forKey: .label)
        source = try c.decodeIfPresent(String.self, forKey: .source) ?? ""
        category = try c.decodeIfPresent(String.self, forKey: .category) ?? ""
    }

    /// True for label `injection`.
    public var isInjection: Bool { label == "injection" }
    /// The repository part of `source` (`owner/repo:path@commit` → `owner/repo`).
    public var sourceRepository: String {
        source.split(separator: ":", maxSplits: 1).first.map(String.init) ?? source
    }
    /// True for the over-defence categories `hard_negative_*`.
    public var isHardNegative: Bool { category.hasPrefix("hard_negative_") }
}

/// Errors reading an evaluation file.
public enum InjectionEvaluationError: Error, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case badLine(path: String, line: Int, reason: String)
    case empty(path: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .badLine(let path, let line, let reason): "\(path):\(line): \(reason)"
        case .empty(let path): "\(path): no examples in the selected split"
        }
    }
}

/// Metrics of the injection detector on a labelled set (pure functions, tested).
public enum InjectionMetrics {
    /// Reads a JSONL file (one object per line; blank lines skipped).
    public static func load(path: String) throws(InjectionEvaluationError) -> [InjectionExample] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        var examples: [InjectionExample] = []
        let decoder = JSONDecoder()
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                examples.append(try decoder.decode(InjectionExample.self, from: Data(line)))
            } catch {
                throw .badLine(path: path, line: lineNumber, reason: "\(error)")
            }
        }
        return examples
    }

    /// ROC AUC (ties count one half), or nil without both classes.
    public static func rocAUC(scores: [Double], labels: [Bool]) -> Double? {
        let positives = labels.filter { $0 }.count
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j where labels[order[k]] { rankSum += rank }
            i = j + 1
        }
        let p = Double(positives)
        return (rankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }

    /// The smallest threshold that flags at most `floor(fpr × negatives)` of `negativeScores`
    /// (a text is flagged when its score is ≥ the threshold).
    public static func threshold(negativeScores: [Double], fpr: Double) -> Double {
        let sorted = negativeScores.sorted(by: >)
        guard !sorted.isEmpty else { return 0 }
        let allowed = Int((fpr * Double(sorted.count)).rounded(.down))
        if allowed >= sorted.count { return sorted[sorted.count - 1] }
        return sorted[allowed].nextUp
    }

    /// The fraction of `scores` that are ≥ `threshold` (0 for none).
    public static func rate(_ scores: [Double], atOrAbove threshold: Double) -> Double {
        guard !scores.isEmpty else { return 0 }
        return Double(scores.filter { $0 >= threshold }.count) / Double(scores.count)
    }

    /// The `q` quantile (nearest rank) of `values`.
    public static func quantile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let index = min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[index]
    }
}
