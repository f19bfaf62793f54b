import RampartPluginKit
import RampartSanitizerCore

/// Converts between the ABI's protobuf messages and the sanitizer's own types.
enum ProtoMapping {
    static func role(_ role: Rampart_V1_Role) -> MessageRole {
        switch role {
        case .system: .system
        case .user: .user
        case .assistant: .assistant
        case .tool: .tool
        case .retrieved: .retrieved
        default: .unspecified
        }
    }

    static func protoRole(_ role: MessageRole) -> Rampart_V1_Role {
        switch role {
        case .system: .system
        case .user: .user
        case .assistant: .assistant
        case .tool: .tool
        case .retrieved: .retrieved
        case .unspecified: .unspecified
        }
    }

    static func toolCall(_ call: Rampart_V1_ToolCall) -> ToolCallInput {
        ToolCallInput(id: call.id, name: call.name, arguments: call.argumentsJson)
    }

    static func input(_ request: Rampart_V1_PluginRequest) -> RequestInput {
        let r = request.request
        let contentType = request.metadata.first { $0.key.lowercased() == "content-type" }.flatMap { entry -> String? in
            if case .text(let value)? = entry.value { return value }
            return "application/octet-stream"
        }
        return RequestInput(
            messages: r.messages.map { m in
                MessageInput(role: role(m.role), content: m.content, name: m.name, toolCallID: m.toolCallID,
                             toolCalls: m.toolCalls.map(toolCall))
            },
            prompt: r.prompt,
            tools: r.tools.map { ToolDefinitionInput(name: $0.name, description: $0.description_p, parameters: $0.parametersJson) },
            contentType: contentType)
    }

    /// The sanitizer's input from the fields of ``RequestView/content()`` (no tools, no tool calls).
    static func input(_ content: RequestContent, contentType: String?) -> RequestInput {
        RequestInput(
            messages: content.messages.map { m in
                MessageInput(role: role(m.role), content: m.content, name: m.name, toolCallID: m.toolCallID, toolCalls: [])
            },
            prompt: content.prompt, tools: [], contentType: contentType)
    }

    /// The sanitized messages as protobuf, keeping fields the sanitizer does not model.
    static func messages(_ messages: [MessageInput], original: [Rampart_V1_ChatMessage]) -> [Rampart_V1_ChatMessage] {
        // The sanitizer may insert one leading system message (the spotlighting convention).
        let offset = messages.count - original.count
        return messages.enumerated().map { index, m in
            var out = index - offset >= 0 && index - offset < original.count ? original[index - offset] : Rampart_V1_ChatMessage()
            out.role = protoRole(m.role)
            out.content = m.content
            out.name = m.name
            out.toolCallID = m.toolCallID
            out.toolCalls = m.toolCalls.map { call in
                Rampart_V1_ToolCall.with {
                    $0.id = call.id
                    $0.name = call.name
                    $0.argumentsJson = call.arguments
                }
            }
            return out
        }
    }
}
