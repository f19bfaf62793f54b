import Foundation
import RampartCore

/// Rampart's embedded default model (`builtin` backend): `rampart-tiny`, a word-level
/// interpolated modified Kneser–Ney 4-gram language model with its own tokenizer.
///
/// It is small and fast, produces readable (if not always sensible) English in the style
/// of technical documentation, and is not a neural LLM: it has no understanding of the
/// prompt beyond its last three tokens. See `docs/BUILTIN_MODEL.md`.
///
/// ## Chat format
/// A chat becomes, for each message, the role-marker token of its role followed by the
/// tokens of its content, then the `<assistant>` marker; the model continues from there.
/// A raw prompt is tokenized and continued as-is. Content never produces special tokens.
///
/// ## Sampling, per generated token
/// 1. the model's full-vocabulary log-probabilities (role markers are `-inf`);
/// 2. the ``RampartCore/LogitsHook``, if any, with those logits and the ids generated
///    so far (prompt excluded); it may change them in place;
/// 3. `logitBias` is added (ids outside the vocabulary are ignored; NaN becomes `-inf`);
/// 4. log-softmax of the result gives the reported `logprob` and `top` alternatives;
/// 5. temperature (`0` = greedy argmax, ties to the lowest id), then top-k, then
///    top-p (nucleus), then a draw from a xoshiro256** PRNG seeded with `seed`
///    (a random seed when nil). Same seed and same request → same output.
///
/// ## Ending
/// `<eos>` → ``RampartCore/GenerationFinish/stop``; `maxTokens` or a full context →
/// `.length`; a stop string → `.stop` with the output cut right before its first
/// occurrence (stop strings may span tokens: text that could begin a stop string is held
/// back until it is known not to); the sink returning false → `.cancelled` at once.
///
/// Every generated token except `<eos>` is passed to the sink once, with the text it
/// releases; the texts concatenate to exactly the completion. Bytes of an incomplete
/// UTF-8 character are held until the character completes (and become U+FFFD if it never
/// does). If `<eos>` ends generation while text is still held back, one final token with
/// the `<eos>` id carries that text. `completionTokens` counts the tokens generated,
/// excluding `<eos>`.
public final class BuiltinModel: InferenceBackend {
    /// The served model; `version` is derived from the artifact's content.
    public let model: ModelDescriptor
    /// Generation is CPU-bound: run it on a worker thread.
    public let execution = BackendExecution.blocking
    /// The model's tokenizer.
    public let tokenizer: BuiltinTokenizer
    /// The n-gram order (4 for `rampart-tiny`).
    public let order: Int

    let ngram: NGramModel

    private init(model: ModelDescriptor, tokenizer: BuiltinTokenizer, ngram: NGramModel) {
        self.model = model
        self.tokenizer = tokenizer
        self.ngram = ngram
        self.order = ngram.order
    }

    /// The name of the bundled model.
    public static let bundledModelName = "rampart-tiny"

    /// Path of the artifact directory bundled with this module, or nil when the resource
    /// bundle cannot be found next to the executable.
    public static var bundledArtifactPath: String? {
        let bundleName = "Rampart_RampartBuiltinModel"
        var directories: [URL] = [Bundle.main.bundleURL]
        if let resources = Bundle.main.resourceURL { directories.append(resources) }
        if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent()) }
        for directory in directories {
            for suffix in [".resources", ".bundle"] {
                let path = directory.appendingPathComponent(bundleName + suffix).path
                if let bundle = Bundle(path: path),
                    let url = bundle.url(forResource: bundledModelName, withExtension: nil)
                {
                    return url.path
                }
            }
        }
        return nil
    }

    /// Loads the bundled `rampart-tiny` model.
    public static func loadBundled() throws -> BuiltinModel {
        guard let path = bundledArtifactPath else {
            throw BuiltinModelError.artifactNotFound(path: "Rampart_RampartBuiltinModel.resources/\(bundledModelName)")
        }
        return try load(directory: path)
    }

    /// Loads and verifies an artifact directory.
    ///
    /// `manifest.json` must list every other file in the directory (no more, no fewer)
    /// with its size and SHA-256; `config.json`, the tokenizer and the binary weights are
    /// then parsed with bounds checks. Any problem throws a ``BuiltinModelError``.
    public static func load(directory: String) throws -> BuiltinModel {
        let artifact = try ArtifactLoader.load(directory: directory)
        let config = artifact.config
        let tokenizer = try BuiltinTokenizer(
            file: artifact.tokenizer, vocabularySize: config.vocabSize, fileName: config.files.tokenizer)
        let ngram = try NGramModel.parse(
            artifact.weights, fileName: config.files.weights, expectedOrder: config.order,
            expectedVocabularySize: config.vocabSize, neverGenerated: 1...5)
        let descriptor = ModelDescriptor(
            name: config.name, version: artifact.version, backend: "builtin",
            contextLength: config.contextLength, vocabularySize: config.vocabSize)
        return BuiltinModel(model: descriptor, tokenizer: tokenizer, ngram: ngram)
    }

    /// The prompt's tokens: see "Chat format" above.
    public func promptTokens(_ input: PromptInput) -> [Int32] {
        var tokens: [Int32] = []
        switch input {
        case .raw(let text):
            tokenizer.encode(text, into: &tokens)
        case .chat(let turns):
            for turn in turns {
                tokens.append(BuiltinTokenizer.roleMarker(for: turn.role))
                tokenizer.encode(turn.content, into: &tokens)
            }
            tokens.append(BuiltinTokenizer.roleMarker(for: .assistant))
        }
        return tokens
    }

    /// The number of prompt tokens (``promptTokens(_:)``), as reported in
    /// ``RampartCore/GenerationResult/promptTokens``.
    public func countPromptTokens(_ input: PromptInput) -> Int {
        promptTokens(input).count
    }

    /// Full-vocabulary natural-log probabilities of the next token after `context`
    /// (`-inf` for tokens that can never be generated).
    public func nextTokenLogProbabilities(after context: [Int32]) -> [Float] {
        var probabilities = [Float](repeating: 0, count: model.vocabularySize)
        context.withUnsafeBufferPointer { history in
            probabilities.withUnsafeMutableBufferPointer { ngram.fillProbabilities(history: history, into: $0) }
        }
        return probabilities.map { log($0) }
    }

    /// Generates a completion; see the type's documentation for the exact semantics.
    public func generate(_ request: GenerationRequest, sink: TokenSink) throws -> GenerationResult {
        let sampling = request.sampling
        var history = promptTokens(request.input)
        let promptCount = history.count
        let contextLength = model.contextLength
        guard promptCount < contextLength else {
            throw BuiltinModelError.promptTooLong(tokens: promptCount, limit: contextLength)
        }
        let budget = min(sampling.maxTokens, contextLength - promptCount)
        guard budget > 0 else {
            return GenerationResult(finish: .length, promptTokens: promptCount, completionTokens: 0)
        }
        let vocabularySize = model.vocabularySize
        history.reserveCapacity(promptCount + budget)
        var generated: [Int32] = []
        generated.reserveCapacity(budget)
        var workspace = SamplerWorkspace(vocabularySize: vocabularySize)
        var seedSource = SystemRandomNumberGenerator()
        var rng = Xoshiro256StarStar(seed: sampling.seed ?? seedSource.next())
        let bias = sampling.logitBias
            .filter { $0.key >= 0 && Int($0.key) < vocabularySize }
            .sorted { $0.key < $1.key }
        let alternatives = sampling.logprobs ? max(0, min(sampling.topLogprobs, 20)) : 0
        var assembler = UTF8Assembler()
        var matcher = StopMatcher(sampling.stop)
        var decoded: [UInt8] = []
        var released: [UInt8] = []
        decoded.reserveCapacity(64)
        released.reserveCapacity(64)

        func result(_ finish: GenerationFinish) -> GenerationResult {
            GenerationResult(finish: finish, promptTokens: promptCount, completionTokens: generated.count)
        }

        for step in 0..<budget {
            // 1. model log-probabilities
            history.withUnsafeBufferPointer { context in
                workspace.probabilities.withUnsafeMutableBufferPointer { ngram.fillProbabilities(history: context, into: $0) }
            }
            workspace.probabilities.withUnsafeBufferPointer { probabilities in
                workspace.logits.withUnsafeMutableBufferPointer { logits in
                    for i in 0..<vocabularySize { logits[i] = log(probabilities[i]) }
                }
            }
            // 2. hook, 3. bias
            if let hook = request.logitsHook {
                workspace.logits.withUnsafeMutableBufferPointer { logits in
                    generated.withUnsafeBufferPointer { previous in hook(logits, previous) }
                }
            }
            for (id, value) in bias { workspace.logits[Int(id)] += value }

            // 4. log-softmax for the reported log-probabilities, 5. selection
            var logprob: Float?
            var top: [TokenAlternative] = []
            let selection: Int? = workspace.logits.withUnsafeMutableBufferPointer { logitsBuffer in
                guard let (maxLogit, argmax) = Sampler.sanitize(logitsBuffer) else { return nil }
                let logits = UnsafeBufferPointer(logitsBuffer)
                let token: Int
                if sampling.temperature > 0 {
                    token = workspace.candidates.withUnsafeMutableBufferPointer { candidates in
                        workspace.weights.withUnsafeMutableBufferPointer { weights in
                            Sampler.sample(
                                logits, maxLogit: maxLogit, temperature: sampling.temperature, topK: sampling.topK,
                                topP: sampling.topP, rng: &rng, candidates: candidates, weights: weights)
                        }
                    }
                } else {
                    token = argmax
                }
                if sampling.logprobs {
                    let normalizer = Sampler.logSumExp(logits, maxLogit: maxLogit)
                    logprob = min(0, logits[token] - normalizer)
                    for id in Sampler.best(alternatives, logits) {
                        top.append(
                            TokenAlternative(
                                id: id, text: tokenizer.text(of: id), logprob: min(0, logits[Int(id)] - normalizer)))
                    }
                }
                return token
            }
            guard let selection else { throw BuiltinModelError.noViableToken(step: step) }
            let token = Int32(selection)

            decoded.removeAll(keepingCapacity: true)
            released.removeAll(keepingCapacity: true)
            if token == BuiltinTokenizer.endOfSequence {
                assembler.flush(into: &decoded)
                _ = matcher.push(decoded, final: true, into: &released)
                if !released.isEmpty {
                    let text = String(decoding: released, as: UTF8.self)
                    if !sink(GeneratedToken(id: token, text: text, logprob: logprob, top: top)) {
                        return result(.cancelled)
                    }
                }
                return result(.stop)
            }
            generated.append(token)
            history.append(token)
            let isLast = step == budget - 1
            assembler.push(tokenizer.byteSlice(of: token), into: &decoded)
            if isLast { assembler.flush(into: &decoded) }
            let stopped = matcher.push(decoded, final: isLast, into: &released)
            let text = String(decoding: released, as: UTF8.self)
            if !sink(GeneratedToken(id: token, text: text, logprob: logprob, top: top)) {
                return result(.cancelled)
            }
            if stopped { return result(.stop) }
        }
        return result(.length)
    }
}
