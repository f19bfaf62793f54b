import Foundation
import NIOCore
import RampartCore
import RampartProto
import SwiftProtobuf

/// Decoding through text views (proto/rampart/v1/views.proto).
///
/// swift-protobuf validates a string field one Unicode scalar at a time, ≈ 1 ns per byte: on a
/// 1 KB prompt that was an eighth of the server's whole cost per call. A view reads a message's
/// large text fields as bytes; the standard library validates them a word at a time, and every
/// other field (kept as unknown bytes by the view) is decoded by the real message. The result,
/// and the refusal of invalid UTF-8, are those of decoding the real message.
enum TextViews {
    /// `M` decoded from the fields a view kept as unknown.
    static func rest<M: SwiftProtobuf.Message>(_: M.Type, of view: some SwiftProtobuf.Message) throws -> M {
        try M(serializedBytes: view.unknownFields.data)
    }

    /// Validated UTF-8, or `BinaryDecodingError.invalidUTF8` (as swift-protobuf reports it).
    static func text(_ bytes: Data) throws -> String {
        if bytes.isEmpty { return "" }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw BinaryDecodingError.invalidUTF8 }
        return text
    }
}

extension Rampart_V1_GenerateRequest {
    /// Decodes a request through `GenerateRequestTextView` (prompt and message contents validated
    /// by the standard library); malformed bytes and invalid UTF-8 are INVALID_ARGUMENT.
    public init(viaTextView bytes: ByteBuffer) throws(RPCError) {
        do {
            let view = try Rampart_V1_GenerateRequestTextView(serializedBytes: bytes)
            self = try TextViews.rest(Self.self, of: view)
            prompt = try TextViews.text(view.prompt)
            if !view.messages.isEmpty {
                var messages: [Rampart_V1_ChatMessage] = []
                messages.reserveCapacity(view.messages.count)
                for part in view.messages {
                    var message = try TextViews.rest(Rampart_V1_ChatMessage.self, of: part)
                    message.content = try TextViews.text(part.content)
                    messages.append(message)
                }
                self.messages = messages
            }
        } catch {
            throw Frame.decodingError(error, Self.protoMessageName)
        }
    }
}

extension Rampart_V1_GenerateResponse {
    /// Decodes a response through `GenerateResponseTextView` (the text validated by the standard
    /// library); throws swift-protobuf's errors, as decoding the real message does.
    public init(viaTextView bytes: ByteBuffer) throws {
        let view = try Rampart_V1_GenerateResponseTextView(serializedBytes: bytes)
        self = try TextViews.rest(Self.self, of: view)
        text = try TextViews.text(view.text)
    }
}
