import RampartProto

/// What a request or response hook decided: a protobuf `Verdict`, or an answer given through
/// host calls (ABI 1.2 `deny`/`add_trailer`/`set_principal`/`set_max_tokens`) that the chain
/// applies as it is, without building `Verdict` and `Mutation` messages.
public enum HookDecision {
    case verdict(Rampart_V1_Verdict)
    case answer(HookAnswer)
}

/// An answer given through host calls. Empty = pass.
public struct HookAnswer: Sendable {
    /// A refusal: gRPC code 1–16, message, retry-after in milliseconds (0 = none).
    public struct Deny: Sendable, Equatable {
        public var code: Int32
        public var message: String
        public var retryAfterMs: UInt64

        public init(code: Int32, message: String, retryAfterMs: UInt64) {
            self.code = code
            self.message = message
            self.retryAfterMs = retryAfterMs
        }
    }

    public var deny: Deny?
    /// On the denial's trailers when the hook denies, else on the successful response's.
    public var trailers: [(key: String, value: String)] = []
    /// Request hooks: the authenticated principal.
    public var principal: Rampart_V1_Principal? {
        get { principalBox?.value }
        set { principalBox = newValue.map(PrincipalBox.init) }
    }
    /// Request hooks of inference calls: `params.max_tokens` (0 = unchanged).
    public var maxTokens: UInt32 = 0
    /// The principal behind one reference: an answer is copied several times on its way through
    /// the chain, and a principal inline is half a dozen references to retain on every copy.
    private var principalBox: PrincipalBox?

    public init() {}

    public var isEmpty: Bool { deny == nil && trailers.isEmpty && principalBox == nil && maxTokens == 0 }

    private final class PrincipalBox: Sendable {
        let value: Rampart_V1_Principal
        init(_ value: Rampart_V1_Principal) { self.value = value }
    }

    /// The same answer as a protobuf verdict, for a hook of `kind` (what an isolated plugin's
    /// process sends back): nil when the answer is empty. Trailers of a response hook are its
    /// `add_metadata`, those of a request hook its `response_metadata`.
    public func verdict(for kind: HookInput.Kind) -> Rampart_V1_Verdict? {
        let entries = trailers.map { Rampart_V1_MetadataEntry(key: $0.key, text: $0.value) }
        if let deny {
            var message = Rampart_V1_Deny()
            message.code = deny.code
            message.message = deny.message
            message.retryAfterMs = deny.retryAfterMs
            message.metadata = entries
            var verdict = Rampart_V1_Verdict()
            verdict.action = .deny(message)
            return verdict
        }
        guard !isEmpty else { return nil }
        var mutation = Rampart_V1_Mutation()
        if let principal { mutation.principal = principal }
        mutation.maxTokens = maxTokens
        if kind == .response { mutation.addMetadata = entries } else { mutation.responseMetadata = entries }
        var verdict = Rampart_V1_Verdict()
        verdict.action = .mutate(mutation)
        return verdict
    }
}
