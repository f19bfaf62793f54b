internal import CRampartPlugin
import RampartProto

/// A request hook's input read field by field, without building protobuf messages (ABI 1.2):
/// who is calling, the call's metadata and the numbers a limit needs. ``request()`` gives the
/// whole `PluginRequest` when a plugin needs the prompt or the messages.
///
/// Valid only during the hook call, like ``PluginCallContext``.
public struct RequestView {
    enum Source {
        case fields(HostFields)
        case message(Rampart_V1_PluginRequest)
    }

    let source: Source
    let decodesBody: Bool
    private let whole: () throws -> Rampart_V1_PluginRequest

    init(fields: HostFields, decodesBody: Bool) {
        self.source = .fields(fields)
        self.decodesBody = decodesBody
        self.whole = { try fields.protobuf(Rampart_V1_PluginRequest.self, hook: "on_request") }
    }

    init(message: Rampart_V1_PluginRequest, decodesBody: Bool, whole: @escaping () throws -> Rampart_V1_PluginRequest) {
        self.source = .message(message)
        self.decodesBody = decodesBody
        self.whole = whole
    }

    /// The RPC method, `/rampart.v1.Inference/Generate` for inference calls.
    public var method: String {
        switch source {
        case .fields(let f): f.string(RP_FIELD_METHOD) ?? ""
        case .message(let m): m.context.method
        }
    }

    /// The host's request id.
    public var requestID: String {
        switch source {
        case .fields(let f): f.string(RP_FIELD_REQUEST_ID) ?? ""
        case .message(let m): m.context.requestID
        }
    }

    /// SO_PEERCRED of the caller; nil when the transport had none.
    public var peer: Rampart_V1_PeerCredentials? {
        switch source {
        case .fields(let f): return f.peer()
        case .message(let m): return m.context.hasPeer ? m.context.peer : nil
        }
    }

    /// The principal an earlier plugin established; nil before.
    public var principal: Rampart_V1_Principal? {
        switch source {
        case .fields(let f): return f.principal()
        case .message(let m):
            return m.context.hasPrincipal ? m.context.principal : nil
        }
    }

    /// The principal's id alone (one host call, no `Principal` built); nil before an
    /// authentication plugin set a principal. With ``principalUser``, ``principalOrg`` and
    /// ``principalScopes`` a plugin reads only the parts it uses.
    public var principalID: String? {
        switch source {
        case .fields(let f): f.string(RP_FIELD_PRINCIPAL_ID)
        case .message(let m): m.context.hasPrincipal ? m.context.principal.id : nil
        }
    }

    /// The principal's user ("" = none, or no principal).
    public var principalUser: String {
        switch source {
        case .fields(let f): f.string(RP_FIELD_PRINCIPAL_USER) ?? ""
        case .message(let m): m.context.principal.user
        }
    }

    /// The principal's organisation ("" = none, or no principal).
    public var principalOrg: String {
        switch source {
        case .fields(let f): f.string(RP_FIELD_PRINCIPAL_ORG) ?? ""
        case .message(let m): m.context.principal.org
        }
    }

    /// The principal's scopes and roles (empty = none, or no principal).
    public var principalScopes: [String] {
        switch source {
        case .fields(let f): f.principalScopes()
        case .message(let m): m.context.principal.scopes
        }
    }

    /// The caller's uid from SO_PEERCRED alone (one host call); nil when the transport had none.
    public var peerUID: UInt32? {
        switch source {
        case .fields(let f): f.number(RP_FIELD_PEER_UID).map { UInt32(truncatingIfNeeded: $0) }
        case .message(let m): m.context.hasPeer ? m.context.peer.uid : nil
        }
    }

    /// The call's text metadata, sorted by key.
    public var metadata: [(key: String, value: String)] {
        switch source {
        case .fields(let f): return f.metadata()
        case .message(let m):
            return m.metadata.compactMap { entry in
                if case .text(let value)? = entry.value { (key: entry.key, value: value) } else { nil }
            }
        }
    }

    /// `params.max_tokens` of an inference call (0 = the server's default, or not inference).
    public var maxTokens: UInt32 {
        switch source {
        case .fields(let f): UInt32(truncatingIfNeeded: f.number(RP_FIELD_MAX_TOKENS) ?? 0)
        case .message(let m): m.request.params.maxTokens
        }
    }

    /// The backend's count of the prompt's tokens (0 = unknown).
    public var promptTokens: UInt32 {
        switch source {
        case .fields(let f): UInt32(truncatingIfNeeded: f.number(RP_FIELD_PROMPT_TOKENS) ?? 0)
        case .message(let m): m.promptTokens
        }
    }

    /// UTF-8 bytes of the prompt and of every message's content (inference calls; 0 when the
    /// host did not say and the body was not decoded).
    public var promptBytes: UInt64 {
        switch source {
        case .fields(let f): f.number(RP_FIELD_PROMPT_BYTES) ?? 0
        case .message(let m):
            m.request.messages.reduce(UInt64(m.request.prompt.utf8.count)) { $0 &+ UInt64($1.content.utf8.count) }
        }
    }

    /// The call's deadline in Unix microseconds; 0 = none.
    public var deadlineUnixMicros: UInt64 {
        switch source {
        case .fields(let f): f.number(RP_FIELD_DEADLINE_UNIX_US) ?? 0
        case .message(let m): m.context.deadlineUnixUs
        }
    }

    /// The whole `PluginRequest`, prompt and messages included (encoded by the host on demand).
    public func request() throws -> Rampart_V1_PluginRequest { try whole() }

    /// The prompt and the messages (role, content, name, tool call id), read as fields with no
    /// protobuf on a host that has the content fields, else taken from ``request()``. Tool
    /// definitions and tool calls are not in it: when ``RequestContent/toolCount`` or
    /// ``RequestContent/toolCallCount`` is not 0, read ``request()`` for them.
    public func content() throws -> RequestContent {
        switch source {
        case .fields(let f):
            guard let count = f.number(RP_FIELD_MESSAGE_COUNT) else { return RequestContent(try whole().request) }
            var messages: [RequestContent.Message] = []
            messages.reserveCapacity(Int(min(count, 4096)))
            for index in 0..<Int(clamping: count) {
                guard let role = f.string(RP_FIELD_MESSAGE_ROLE, index) else { break }
                messages.append(RequestContent.Message(
                    role: RequestContent.role(named: role), content: f.string(RP_FIELD_MESSAGE_CONTENT, index) ?? "",
                    name: f.string(RP_FIELD_MESSAGE_NAME, index) ?? "",
                    toolCallID: f.string(RP_FIELD_MESSAGE_TOOL_CALL_ID, index) ?? ""))
            }
            return RequestContent(
                prompt: f.string(RP_FIELD_PROMPT) ?? "", messages: messages,
                toolCount: Int(clamping: f.number(RP_FIELD_TOOL_COUNT) ?? 0),
                toolCallCount: Int(clamping: f.number(RP_FIELD_TOOL_CALL_COUNT) ?? 0))
        case .message(let m):
            return RequestContent(decodesBody ? m.request : try whole().request)
        }
    }

    /// What ``RampartPlugin/onRequest(_:context:)`` receives: the whole request, or the header
    /// view when the plugin's ``RampartPlugin/decodesRequestBody`` is false.
    func pluginRequest() throws -> Rampart_V1_PluginRequest {
        switch source {
        case .fields(let f): decodesBody ? try whole() : f.requestHeader()
        case .message(let m): m
        }
    }
}

@available(*, unavailable, message: "a RequestView is valid only during its call, on the calling thread")
extension RequestView: Sendable {}

/// An inference request's text as ``RequestView/content()`` reads it: the prompt and the messages
/// without their tool calls, and how many tool definitions and tool calls the request has.
public struct RequestContent: Sendable, Equatable {
    /// One chat message without its tool calls.
    public struct Message: Sendable, Equatable {
        public var role: Rampart_V1_Role
        public var content: String
        public var name: String
        public var toolCallID: String

        public init(role: Rampart_V1_Role, content: String, name: String = "", toolCallID: String = "") {
            self.role = role
            self.content = content
            self.name = name
            self.toolCallID = toolCallID
        }
    }

    public var prompt: String
    public var messages: [Message]
    /// `GenerateRequest.tools.count`.
    public var toolCount: Int
    /// Tool calls across all messages.
    public var toolCallCount: Int

    public init(prompt: String, messages: [Message], toolCount: Int, toolCallCount: Int) {
        self.prompt = prompt
        self.messages = messages
        self.toolCount = toolCount
        self.toolCallCount = toolCallCount
    }

    /// The content of a decoded request.
    public init(_ request: Rampart_V1_GenerateRequest) {
        self.init(prompt: request.prompt,
                  messages: request.messages.map { Message(role: $0.role, content: $0.content, name: $0.name, toolCallID: $0.toolCallID) },
                  toolCount: request.tools.count,
                  toolCallCount: request.messages.reduce(0) { $0 + $1.toolCalls.count })
    }

    /// `RP_FIELD_MESSAGE_ROLE`'s names back to the enum (an unknown name is `.unspecified`).
    static func role(named name: String) -> Rampart_V1_Role {
        switch name {
        case "system": .system
        case "user": .user
        case "assistant": .assistant
        case "tool": .tool
        case "retrieved": .retrieved
        default: .unspecified
        }
    }
}
