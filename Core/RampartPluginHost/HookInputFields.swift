import CRampartPlugin
import RampartChain
import RampartProto

/// ABI 1.2: the `RP_FIELD_*` numbers of rampart_plugin.h mapped onto a hook's input.
extension HookInput {
    /// A string field; nil when absent, out of range, or not a string field.
    func string(_ field: rp_field, index: Int) -> String? {
        switch field {
        case RP_FIELD_REQUEST_ID: return index == 0 ? requestID : nil
        case RP_FIELD_METHOD: return index == 0 ? method : nil
        case RP_FIELD_PRINCIPAL_ID: return index == 0 ? principal?.id : nil
        case RP_FIELD_PRINCIPAL_USER: return index == 0 ? principal?.user : nil
        case RP_FIELD_PRINCIPAL_ORG: return index == 0 ? principal?.org : nil
        case RP_FIELD_PRINCIPAL_SCOPE:
            guard let scopes = principal?.scopes, index >= 0, index < scopes.count else { return nil }
            return scopes[index]
        case RP_FIELD_PRINCIPAL_CREDENTIAL: return index == 0 ? principal?.credentialKind : nil
        case RP_FIELD_METADATA_KEY: return index >= 0 && index < metadata.count ? metadata[index].key : nil
        case RP_FIELD_METADATA_VALUE: return index >= 0 && index < metadata.count ? metadata[index].value : nil
        case RP_FIELD_MODEL: return index == 0 && isInference ? model : nil
        case RP_FIELD_CLIENT_REQUEST_ID: return index == 0 && isInference ? clientRequestID : nil
        case RP_FIELD_PROMPT: return index == 0 && hasContent ? prompt : nil
        case RP_FIELD_MESSAGE_ROLE: return message(index).map { Self.roleName($0.role) }
        case RP_FIELD_MESSAGE_CONTENT: return message(index)?.content
        case RP_FIELD_MESSAGE_NAME: return message(index)?.name
        case RP_FIELD_MESSAGE_TOOL_CALL_ID: return message(index)?.toolCallID
        default: return nil
        }
    }

    /// The content fields exist in an inference call's request hook only.
    private var hasContent: Bool { kind == .request && isInference }

    private func message(_ index: Int) -> Rampart_V1_ChatMessage? {
        guard hasContent, index >= 0, index < messages.count else { return nil }
        return messages[index]
    }

    /// `RP_FIELD_MESSAGE_ROLE`'s names: the proto enum's, lower case, without `ROLE_`.
    static func roleName(_ role: Rampart_V1_Role) -> String {
        switch role {
        case .system: "system"
        case .user: "user"
        case .assistant: "assistant"
        case .tool: "tool"
        case .retrieved: "retrieved"
        case .unspecified, .UNRECOGNIZED: "unspecified"
        }
    }

    /// A string field's UTF-8, kept by the input so that the pointer outlives the C call.
    func stableString(_ field: rp_field, index: Int) -> UnsafeRawBufferPointer? {
        stableUTF8(key: Int(field) << 32 | (index & 0xFFFF_FFFF)) { string(field, index: index) }
    }

    /// A number field; nil when absent or not a number field.
    func number(_ field: rp_field) -> UInt64? {
        switch field {
        case RP_FIELD_PEER_PID: return peer.map { UInt64($0.pid) }
        case RP_FIELD_PEER_UID: return peer.map { UInt64($0.uid) }
        case RP_FIELD_PEER_GID: return peer.map { UInt64($0.gid) }
        case RP_FIELD_DEADLINE_UNIX_US: return deadlineUnixMicros
        case RP_FIELD_STREAM_ID: return UInt64(streamID)
        case RP_FIELD_MAX_TOKENS: return isInference ? UInt64(maxTokens) : nil
        case RP_FIELD_PROMPT_TOKENS: return kind == .request ? UInt64(promptTokens) : nil
        case RP_FIELD_PROMPT_BYTES: return isInference ? promptBytes : nil
        case RP_FIELD_IS_INFERENCE: return isInference ? 1 : 0
        case RP_FIELD_MESSAGE_COUNT: return hasContent ? UInt64(messages.count) : nil
        case RP_FIELD_TOOL_COUNT: return hasContent ? UInt64(toolCount) : nil
        case RP_FIELD_TOOL_CALL_COUNT: return hasContent ? UInt64(toolCallCount) : nil
        case RP_FIELD_STATUS_CODE: return ending.map { UInt64(bitPattern: Int64($0.statusCode)) }
        case RP_FIELD_FINISH_REASON: return ending.map { UInt64(bitPattern: Int64($0.finishReason)) }
        case RP_FIELD_USAGE_PROMPT_TOKENS: return ending.map { UInt64($0.promptTokens) }
        case RP_FIELD_USAGE_COMPLETION_TOKENS: return ending.map { UInt64($0.completionTokens) }
        case RP_FIELD_DELIVERED_BYTES: return ending?.deliveredBytes
        default: return nil
        }
    }
}
