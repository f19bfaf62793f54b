/// A chat role as the sanitizer sees it.
public enum MessageRole: String, Sendable, CaseIterable, Hashable {
    case unspecified, system, user, assistant, tool, retrieved

    /// Retrieved documents and tool output: untrusted content.
    public var isUntrusted: Bool { self == .tool || self == .retrieved }
}

/// Where a tool call comes from (``Sanitizer/checkToolCall(_:origin:session:findings:rewritable:)``).
public enum ToolCallOrigin: Sendable, Equatable {
    /// A call in the request's messages: history that goes to the model.
    case request
    /// The model's call in a response: output that goes to the application.
    case response
}

/// A tool call written by the model (in an assistant message or a response).
public struct ToolCallInput: Sendable, Equatable {
    public var id: String
    public var name: String
    /// The arguments as JSON text.
    public var arguments: String
    public init(id: String = "", name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// A tool the application offers the model: a name and a JSON Schema for its arguments.
public struct ToolDefinitionInput: Sendable, Equatable {
    public var name: String
    public var description: String
    /// The parameters' JSON Schema as JSON text.
    public var parameters: String
    public init(name: String, description: String = "", parameters: String) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

/// One chat message.
public struct MessageInput: Sendable, Equatable {
    public var role: MessageRole
    public var content: String
    public var name: String
    public var toolCallID: String
    public var toolCalls: [ToolCallInput]
    public init(role: MessageRole, content: String, name: String = "", toolCallID: String = "", toolCalls: [ToolCallInput] = []) {
        self.role = role
        self.content = content
        self.name = name
        self.toolCallID = toolCallID
        self.toolCalls = toolCalls
    }
}

/// A request as the sanitizer sees it (built by the plugin glue from the protobuf request).
public struct RequestInput: Sendable, Equatable {
    public var messages: [MessageInput]
    /// A raw prompt (treated as user content).
    public var prompt: String
    public var tools: [ToolDefinitionInput]
    /// The call's `content-type` metadata, if any.
    public var contentType: String?
    public init(messages: [MessageInput] = [], prompt: String = "", tools: [ToolDefinitionInput] = [], contentType: String? = nil) {
        self.messages = messages
        self.prompt = prompt
        self.tools = tools
        self.contentType = contentType
    }
}

/// Why a request or an output was refused: a stable code, a message for the client (never
/// containing the offending secret), and the audit reason class.
public struct SanitizerDenial: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case tooLarge = "too_large"
        case tooManyMessages = "too_many_messages"
        case invalidRole = "invalid_role"
        case systemAfterConversation = "system_after_conversation"
        case invalidUTF8 = "invalid_utf8"
        case contentType = "content_type"
        case unicode
        case invisibleOnly = "invisible_only"
        case roleMarker = "role_marker"
        case toolSchema = "tool_schema"
        case toolArguments = "tool_arguments"
        case toolNotAllowed = "tool_not_allowed"
        case url
        case pii
        case secret
        case injection
        case canaryLeak = "canary_leak"
        case scanFailed = "scan_failed"
    }
    public var code: Code
    public var message: String
    /// Whether the client sent something malformed (INVALID_ARGUMENT) rather than something
    /// refused by policy (PERMISSION_DENIED).
    public var isMalformed: Bool {
        [.tooLarge, .tooManyMessages, .invalidRole, .invalidUTF8, .contentType, .toolSchema].contains(code)
    }
    public var description: String { "\(code.rawValue): \(message)" }
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// What the sanitizer noticed without refusing (annotations on the verdict, audit attributes).
public struct SanitizerFinding: Sendable, Equatable {
    public var kind: String
    public var detail: String
    public init(_ kind: String, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }
}

/// A prompt-injection scorer (the learned detector plugs in here).
public protocol InjectionScoring: Sendable {
    /// A calibrated score in [0, 1] for `text` (already in detection form).
    func injectionScore(_ text: String) -> Double
}
