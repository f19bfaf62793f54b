import Foundation

/// The last step of a scan: one calibrated score from the model logit, the rule evidence, the
/// phrase similarity and the known-attack fraction (`combiner` of config.json, decoded as it is;
/// fitted by scripts/train-injection-model.py on out-of-fold logits and fractions).
///
/// `score = σ(model · m + rules · min(cap, evidence) + heuristic · similarity
/// + knownAttacks · fraction + bias)`, where `m`
/// is the model logit as the combiner reads it:
/// - when the text hid an instruction the model cannot read (a rule matched only in a decoded
///   view, or any rule matched in a text with tag characters), the logit first becomes
///   `max(logit, 0)`: the model may not vote against that evidence;
/// - with ``ModelInput/log1pPositive`` (the shipped combiner) a positive logit enters as
///   `ln(1 + logit)`: the model's confidence counts in full up to even odds and only
///   logarithmically above. The hashed network alone cannot then push a text past one that
///   also carries rule or phrase evidence: at the top of the scale its extreme logits (task
///   vocabulary shared by benign task prompts and appended injected tasks) outranked texts
///   with explicit override or jailbreak evidence (docs/SANITIZER-INJECTION.md, session 6).
///
/// Every coefficient the loader accepts is finite; with non-negative coefficients the score is
/// non-decreasing in each input (the tests check this for the committed artifact).
struct InjectionCombiner: Decodable, Sendable {
    /// How the model logit enters the combiner (`combiner.model_input` of config.json).
    enum ModelInput: String, Decodable, Sendable, CaseIterable {
        /// The logit as it is (artifacts before session 6).
        case linear
        /// The logit when ≤ 0, `ln(1 + logit)` above: continuous, strictly increasing, and
        /// logarithmic in the model's positive confidence.
        case log1pPositive = "log1p_positive"
    }

    let model: Double
    let rules: Double
    let heuristic: Double
    /// The coefficient of the known-attack fraction (``KnownAttackMemory``). Required.
    let knownAttacks: Double
    let bias: Double
    let ruleEvidenceCap: Double
    /// Required: an artifact without it, or with a value this runtime does not know, is refused.
    let modelInput: ModelInput

    enum CodingKeys: String, CodingKey {
        case model, rules, heuristic, bias
        case knownAttacks = "known_attacks"
        case ruleEvidenceCap = "rule_evidence_cap"
        case modelInput = "model_input"
    }

    init(
        model: Double, rules: Double, heuristic: Double, knownAttacks: Double = 0, bias: Double, ruleEvidenceCap: Double,
        modelInput: ModelInput
    ) {
        self.model = model
        self.rules = rules
        self.heuristic = heuristic
        self.knownAttacks = knownAttacks
        self.bias = bias
        self.ruleEvidenceCap = ruleEvidenceCap
        self.modelInput = modelInput
    }

    /// The model logit as the combiner reads it (before the coefficient).
    @inline(__always)
    func modelTerm(logit: Double, hiddenInstruction: Bool) -> Double {
        let m = hiddenInstruction ? max(logit, 0) : logit
        switch modelInput {
        case .linear: return m
        case .log1pPositive: return m > 0 ? Foundation.log1p(m) : m
        }
    }

    /// The calibrated score in [0, 1]. `evidence` is capped here (callers may pass the raw sum).
    func score(logit: Double, evidence: Double, similarity: Double, knownAttacks fraction: Double = 0, hiddenInstruction: Bool) -> Double {
        let z = model * modelTerm(logit: logit, hiddenInstruction: hiddenInstruction) + rules * min(ruleEvidenceCap, evidence)
            + heuristic * similarity + knownAttacks * fraction + bias
        return 1.0 / (1.0 + Foundation.exp(-z))
    }
}
