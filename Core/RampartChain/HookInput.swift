import Foundation
import RampartCore
import RampartProto
import SwiftProtobuf

/// The input of one request, response or stream-end hook call, readable two ways: as fields
/// (ABI 1.2 `get_str`/`get_u64`, no protobuf at all) or as the encoded protobuf message
/// (`PluginRequest`, `PluginResponse`, `StreamSummary`), encoded on first use and then shared by
/// every plugin of the call that reads it.
///
/// Built by the chain for in-process calls, or decoded from the protobuf a parent process sent
/// (isolated plugins): both give the same fields.
public final class HookInput: @unchecked Sendable {
    /// Which hook the input is for.
    public enum Kind: Sendable { case request, response, streamEnd }

    /// How a call ended (stream-end input only).
    public struct Ending: Sendable, Equatable {
        public var statusCode: Int32
        public var finishReason: Int32
        public var promptTokens: UInt32
        public var completionTokens: UInt32
        public var deliveredBytes: UInt64

        public init(statusCode: Int32, finishReason: Int32, promptTokens: UInt32, completionTokens: UInt32, deliveredBytes: UInt64) {
            self.statusCode = statusCode
            self.finishReason = finishReason
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.deliveredBytes = deliveredBytes
        }
    }

    public let kind: Kind
    public let requestID: String
    public let method: String
    public let streamID: UInt32
    public let peer: PeerCredentials?
    public let deadlineUnixMicros: UInt64?
    /// The principal an earlier plugin established (``replacePrincipal(_:)`` changes it).
    public private(set) var principal: Rampart_V1_Principal?
    /// Call metadata, sorted by key.
    public let metadata: [(key: String, value: String)]
    /// Whether this is an inference call (else a Health, Admin or plugin-served method).
    public let isInference: Bool
    public let model: String
    public let clientRequestID: String
    public let maxTokens: UInt32
    public let promptTokens: UInt32
    /// UTF-8 bytes of the prompt and of every message's content.
    public let promptBytes: UInt64
    /// The prompt and messages of an inference request (empty otherwise).
    public let prompt: String
    public let messages: [Rampart_V1_ChatMessage]
    /// Tool definitions, and tool calls across all messages (these have no fields of their own).
    public let toolCount: Int
    public let toolCallCount: Int
    public let ending: Ending?

    private let encoder: () throws -> [UInt8]
    private var storage: UnsafeMutableRawBufferPointer?
    private var encodedCount = 0
    /// Why the protobuf this input was decoded from is malformed (then it has no fields).
    public private(set) var malformed: String?

    /// An input whose fields are known and whose protobuf is made by `encode` when asked for.
    public init(kind: Kind, context: RequestContextFields, principal: Rampart_V1_Principal?,
                metadata: [(key: String, value: String)], request: Rampart_V1_GenerateRequest?,
                promptTokens: UInt32, ending: Ending? = nil, encode: @escaping () throws -> [UInt8]) {
        self.kind = kind
        self.requestID = context.requestID
        self.method = context.method
        self.streamID = context.streamID
        self.peer = context.peer
        self.deadlineUnixMicros = context.deadlineUnixMicros
        self.principal = principal
        self.metadata = metadata
        self.isInference = request != nil
        self.model = request?.model ?? ""
        self.clientRequestID = request?.clientRequestID ?? ""
        self.maxTokens = request?.params.maxTokens ?? 0
        self.promptTokens = promptTokens
        self.prompt = request?.prompt ?? ""
        self.messages = request?.messages ?? []
        self.toolCount = request?.tools.count ?? 0
        var bytes = UInt64(prompt.utf8.count)
        var toolCalls = 0
        for message in messages {
            bytes &+= UInt64(message.content.utf8.count)
            toolCalls &+= message.toolCalls.count
        }
        self.promptBytes = bytes
        self.toolCallCount = toolCalls
        self.ending = ending
        self.encoder = encode
    }

    /// UTF-8 copies of string fields handed out through the C ABI, kept while the input lives,
    /// by field and index. The first ``keptLinearLimit`` (a principal, some metadata: what most
    /// plugins read) are found by a linear scan, with no hashing and one allocation; past that a
    /// key index keeps a request with many messages one lookup per field.
    private var kept: [(key: Int, bytes: UnsafeMutableRawBufferPointer)] = []
    private var keptIndex: [Int: Int] = [:]
    /// How many kept strings are found by a linear scan before a key index is built.
    public static let keptLinearLimit = 16

    /// Copies handed out before ``replacePrincipal(_:)``: freed with the input, never earlier.
    private var retired: [UnsafeMutableRawBufferPointer] = []

    deinit {
        storage?.deallocate()
        for entry in kept { entry.bytes.deallocate() }
        for block in retired { block.deallocate() }
    }

    /// Swaps in the principal an earlier plugin of the call just established, so that the next
    /// plugins read the same input without a rebuild: every string field and the protobuf are
    /// produced anew on their next read (the encoder must read the principal at encode time).
    /// Pointers handed out before stay valid while the input lives.
    public func replacePrincipal(_ principal: Rampart_V1_Principal) {
        self.principal = principal
        retired.reserveCapacity(retired.count + kept.count + 1)
        for entry in kept { retired.append(entry.bytes) }
        kept.removeAll(keepingCapacity: true)
        keptIndex.removeAll()
        if let storage {
            retired.append(storage)
            self.storage = nil
            encodedCount = 0
        }
    }

    /// `text`'s UTF-8 at a stable address (valid while this input lives), copied once per `key`
    /// (what the C ABI hands out as a string field; `text` is asked for only on the first call).
    public func stableUTF8(key: Int, _ text: () -> String?) -> UnsafeRawBufferPointer? {
        if let hit = keptBytes(key) { return UnsafeRawBufferPointer(hit) }
        guard var text = text() else { return nil }
        let copy = text.withUTF8 { utf8 in
            let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, utf8.count), alignment: 1)
            block.copyMemory(from: UnsafeRawBufferPointer(utf8))
            return UnsafeMutableRawBufferPointer(rebasing: block[0..<utf8.count])
        }
        if kept.isEmpty { kept.reserveCapacity(Self.keptLinearLimit) }
        kept.append((key, copy))
        if kept.count > Self.keptLinearLimit {
            if keptIndex.isEmpty {
                for (position, entry) in kept.enumerated() { keptIndex[entry.key] = position }
            } else {
                keptIndex[key] = kept.count - 1
            }
        }
        return UnsafeRawBufferPointer(copy)
    }

    private func keptBytes(_ key: Int) -> UnsafeMutableRawBufferPointer? {
        guard kept.count > Self.keptLinearLimit else {
            for entry in kept where entry.key == key { return entry.bytes }
            return nil
        }
        return keptIndex[key].map { kept[$0].bytes }
    }

    /// The encoded protobuf message (made once; valid while this input lives).
    /// - Throws: what the encoder throws (an input that cannot be encoded).
    public func encoded() throws -> UnsafeRawBufferPointer {
        if let storage { return UnsafeRawBufferPointer(rebasing: storage[0..<encodedCount]) }
        let bytes = try encoder()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 8)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        storage = buffer
        encodedCount = bytes.count
        return UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count])
    }

    /// The encoded message as an array (transports that send it elsewhere).
    public func encodedBytes() throws -> [UInt8] {
        [UInt8](try encoded())
    }

    /// Method paths of inference calls start with this.
    public static let inferencePrefix = "/rampart.v1.Inference/"

}

/// The parts of a call's context a hook input carries.
public struct RequestContextFields: Sendable {
    public var requestID: String
    public var method: String
    public var streamID: UInt32
    public var peer: PeerCredentials?
    public var deadlineUnixMicros: UInt64?

    public init(requestID: String, method: String, streamID: UInt32, peer: PeerCredentials?, deadlineUnixMicros: UInt64?) {
        self.requestID = requestID
        self.method = method
        self.streamID = streamID
        self.peer = peer
        self.deadlineUnixMicros = deadlineUnixMicros
    }

    /// The fields of a `RequestContext` message.
    public init(_ message: Rampart_V1_RequestContext) {
        self.init(requestID: message.requestID, method: message.method, streamID: message.streamID,
                  peer: message.hasPeer ? PeerCredentials(pid: message.peer.pid, uid: message.peer.uid, gid: message.peer.gid) : nil,
                  deadlineUnixMicros: message.deadlineUnixUs == 0 ? nil : message.deadlineUnixUs)
    }
}

extension HookInput {
    /// Bytes that do not decode: no fields (``malformed`` says why); `encoded()` gives them back
    /// unchanged.
    public static func undecodable(_ kind: Kind, _ bytes: [UInt8], reason: String) -> HookInput {
        let input = HookInput(
            kind: kind, context: RequestContextFields(requestID: "", method: "", streamID: 0, peer: nil, deadlineUnixMicros: nil),
            principal: nil, metadata: [], request: nil, promptTokens: 0, encode: { bytes })
        input.malformed = reason
        return input
    }

    /// The input a parent process sent as protobuf (isolated plugins): fields decoded from it.
    /// - Throws: the decoding error for malformed bytes.
    public static func decoding(_ kind: Kind, _ bytes: [UInt8]) throws -> HookInput {
        switch kind {
        case .request:
            let message = try Rampart_V1_PluginRequest(serializedBytes: bytes)
            return HookInput(
                kind: .request, context: RequestContextFields(message.context),
                principal: message.context.hasPrincipal ? message.context.principal : nil,
                metadata: message.metadata.compactMap { entry in
                    if case .text(let value)? = entry.value { (key: entry.key, value: value) } else { nil }
                },
                request: message.context.method.hasPrefix(Self.inferencePrefix) ? message.request : nil,
                promptTokens: message.promptTokens, encode: { bytes })
        case .response:
            let message = try Rampart_V1_PluginResponse(serializedBytes: bytes)
            return HookInput(
                kind: .response, context: RequestContextFields(message.context),
                principal: message.context.hasPrincipal ? message.context.principal : nil,
                metadata: [], request: nil, promptTokens: 0, encode: { bytes })
        case .streamEnd:
            let message = try Rampart_V1_StreamSummary(serializedBytes: bytes)
            return HookInput(
                kind: .streamEnd, context: RequestContextFields(message.context),
                principal: message.context.hasPrincipal ? message.context.principal : nil,
                metadata: [], request: nil, promptTokens: 0,
                ending: Ending(statusCode: message.statusCode, finishReason: Int32(message.finishReason.rawValue),
                               promptTokens: message.usage.promptTokens, completionTokens: message.usage.completionTokens,
                               deliveredBytes: message.deliveredBytes),
                encode: { bytes })
        }
    }
}
