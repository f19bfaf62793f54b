/// Where a rule matched: in the text itself or in a view derived from it.
public enum InjectionView: String, Sendable, Hashable, Codable {
    /// The normalised text (NFKC, lower case, invisible characters removed, tag characters decoded).
    case original
    /// The rot13 view of the normalised text.
    case rot13
    /// The leetspeak view (0→o 1→i 3→e 4→a 5→s 7→t @→a $→s).
    case leetspeak
    /// A decoded base64 / base64url segment.
    case base64
    /// A decoded hex segment.
    case hex
    /// A decoded Morse-code segment.
    case morse
}

/// One rule that matched.
public struct RuleMatch: Sendable, Hashable, Codable {
    /// The rule id from rules.json (e.g. `override.prior_instructions`).
    public let ruleID: String
    /// The rule category: `instruction_override`, `role_marker`, `prompt_extraction`,
    /// `jailbreak_persona`, `exfiltration` or `encoded_payload`.
    public let category: String
    /// The rule's weight (log-odds evidence before calibration).
    public let weight: Double
    /// The view in which it matched first (original before decoded views).
    public let view: InjectionView
    /// 0 for the text, 1 for a decoded segment, 2 for a segment decoded from a decoded segment.
    public let depth: Int
}

/// The result of scanning one text.
public struct InjectionScan: Sendable {
    /// The calibrated probability-like score in [0, 1]; compare with the thresholds in
    /// ``InjectionDetector/thresholds``.
    public let score: Double
    /// The distinct rules that matched, in rule-file order, then the synthetic
    /// `encoded.instruction_in_payload` rule.
    public let matches: [RuleMatch]
    /// How many base64/hex segments were decoded and rescanned.
    public let decodedPayloads: Int
    /// The learned model's logit (before the combiner).
    public let modelLogit: Double
    /// The rule evidence fed to the combiner: the sum of the matched rules' weights, capped.
    public let ruleEvidence: Double
    /// The phrase-similarity score in [0, 1].
    public let phraseSimilarity: Double
    /// The share in [0, 1] of the text's word 4-grams that the detector's memory of known attacks
    /// holds (4-grams of at least two training injections and of no training benign text): 0.6
    /// means the text repeats most of a known jailbreak template.
    public let knownAttackFraction: Double
    /// Tag characters found (decoded for detection: "ASCII smuggling").
    public let tagCharacters: Int
    /// Invisible characters removed before detection.
    public let invisibleCharacters: Int
    /// Work done, for bounds checks: bytes given to Hyperscan over all views.
    public let scannedBytes: Int
    /// Work done: hashed model features summed.
    public let modelFeatures: Int

    /// The distinct categories of the matched rules.
    public var categories: Set<String> { Set(matches.map(\.category)) }
}

/// Recommended decision thresholds on ``InjectionScan/score``, calibrated on the training part's
/// out-of-fold scores of benign texts.
public struct InjectionThresholds: Sendable {
    /// Flags about 1 % of benign texts.
    public let fpr1Percent: Double
    /// Flags about 0.1 % of benign texts.
    public let fpr01Percent: Double
}
