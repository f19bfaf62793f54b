import Synchronization

/// Describes the model a backend serves.
public struct ModelDescriptor: Sendable, Hashable {
    /// Short model name, e.g. `"rampart-tiny"`.
    public var name: String
    /// Immutable version string; for artifact models the content digest prefix.
    public var version: String
    /// Backend kind, e.g. `"builtin"`, `"null"`, `"openai"`.
    public var backend: String
    /// Maximum prompt + completion tokens.
    public var contextLength: Int
    /// Number of token ids (0 when unknown).
    public var vocabularySize: Int

    public init(name: String, version: String, backend: String, contextLength: Int, vocabularySize: Int) {
        self.name = name
        self.version = version
        self.backend = backend
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
    }
}

/// The role of a chat message. `retrieved` and `tool` content is untrusted.
public enum ChatRole: String, Sendable, Hashable, CaseIterable {
    case system, user, assistant, tool, retrieved
}

/// One chat message handed to a backend.
public struct ChatTurn: Sendable, Hashable {
    public var role: ChatRole
    public var content: String
    public init(role: ChatRole, content: String) {
        self.role = role
        self.content = content
    }
}

/// What to continue: a chat or a raw prompt.
public enum PromptInput: Sendable, Hashable {
    case chat([ChatTurn])
    case raw(String)
}

/// Validated sampling parameters (ranges are checked before a backend sees them).
public struct SamplingOptions: Sendable, Hashable {
    /// Maximum completion tokens (≥ 1).
    public var maxTokens: Int
    /// 0 means greedy.
    public var temperature: Float
    /// Nucleus mass in (0, 1]; 1 disables.
    public var topP: Float
    /// 0 disables.
    public var topK: Int
    /// Seed for the sampler's PRNG; nil means a random seed.
    public var seed: UInt64?
    /// Stop strings; output ends before the first occurrence.
    public var stop: [String]
    /// Return per-token log-probabilities.
    public var logprobs: Bool
    /// Number of alternatives per token (0...20) when `logprobs`.
    public var topLogprobs: Int
    /// Token id → additive bias.
    public var logitBias: [Int32: Float]

    public init(
        maxTokens: Int = 128, temperature: Float = 0.8, topP: Float = 1, topK: Int = 0, seed: UInt64? = nil,
        stop: [String] = [], logprobs: Bool = false, topLogprobs: Int = 0, logitBias: [Int32: Float] = [:]
    ) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.seed = seed
        self.stop = stop
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
        self.logitBias = logitBias
    }
}

/// A hook the sampler calls with the next-token logits, before any sampling transform
/// (bias, temperature, top-k/p). It may modify the logits in place (a watermarker adds a
/// keyed bias here). `previous` holds the token ids generated so far for this request
/// (prompt excluded). Called on the generating thread, serialized per request.
public typealias LogitsHook = @Sendable (_ logits: UnsafeMutableBufferPointer<Float>, _ previous: UnsafeBufferPointer<Int32>) -> Void

/// One generation job.
public struct GenerationRequest: Sendable {
    public var input: PromptInput
    public var sampling: SamplingOptions
    /// Optional sampler hook (see ``LogitsHook``).
    public var logitsHook: LogitsHook?

    public init(input: PromptInput, sampling: SamplingOptions, logitsHook: LogitsHook? = nil) {
        self.input = input
        self.sampling = sampling
        self.logitsHook = logitsHook
    }
}

/// An alternative token and its log-probability.
public struct TokenAlternative: Sendable, Hashable {
    public var id: Int32
    public var text: String
    public var logprob: Float
    public init(id: Int32, text: String, logprob: Float) {
        self.id = id
        self.text = text
        self.logprob = logprob
    }
}

/// One generated token as emitted to the sink.
public struct GeneratedToken: Sendable, Hashable {
    public var id: Int32
    /// The token's text (already cut before any stop string).
    public var text: String
    /// Log-probability (nil unless requested): log-softmax of the logits after the logits hook and
    /// `logitBias`, before temperature, top-k and top-p — the model's own distribution.
    public var logprob: Float?
    /// Top alternatives (empty unless requested).
    public var top: [TokenAlternative]
    public init(id: Int32, text: String, logprob: Float? = nil, top: [TokenAlternative] = []) {
        self.id = id
        self.text = text
        self.logprob = logprob
        self.top = top
    }
}

/// Why a generation ended.
public enum GenerationFinish: Sendable, Hashable {
    /// End-of-sequence token or a stop string.
    case stop
    /// `maxTokens` reached (or the context is full).
    case length
    /// The sink asked to stop (client cancelled, deadline, or a plugin).
    case cancelled
}

/// The outcome of a generation.
public struct GenerationResult: Sendable, Hashable {
    public var finish: GenerationFinish
    public var promptTokens: Int
    public var completionTokens: Int
    public init(finish: GenerationFinish, promptTokens: Int, completionTokens: Int) {
        self.finish = finish
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// Receives tokens as they are generated. Return `false` to stop generation
/// (the backend then returns with ``GenerationFinish/cancelled``).
public typealias TokenSink = (GeneratedToken) -> Bool

/// Where a backend's work must run.
public enum BackendExecution: Sendable {
    /// Cheap and non-blocking: may run on the I/O thread (e.g. the null backend).
    case inline
    /// CPU-heavy or blocking: the server runs it on a worker pool.
    case blocking
}

/// An inference backend: the embedded model, a null echo backend, or a remote server.
///
/// `generate` is synchronous and may block; the server calls it on a worker thread unless
/// ``execution`` is `.inline`. It must check `sink`'s return value after every token and
/// stop promptly when it is `false`.
public protocol InferenceBackend: Sendable {
    /// The served model.
    var model: ModelDescriptor { get }
    /// Where `generate` may run.
    var execution: BackendExecution { get }
    /// Counts the tokens of a prompt as this backend would see them.
    func countPromptTokens(_ input: PromptInput) -> Int
    /// Generates a completion, streaming tokens into `sink`.
    func generate(_ request: GenerationRequest, sink: TokenSink) throws -> GenerationResult
}
