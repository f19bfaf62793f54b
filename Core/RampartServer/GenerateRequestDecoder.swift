import Foundation
import NIOCore
import RampartCore
import RampartProto
import SwiftProtobuf

/// Decodes a `GenerateRequest` through its text view (proto/rampart/v1/views.proto).
///
/// swift-protobuf validates a string field one Unicode scalar at a time, ≈ 1 ns per byte: on a
/// 1 KB prompt that is an eighth of the server's whole cost per call. The view reads the prompt
/// and each message's content as bytes; the standard library validates them a word at a time,
/// and every other field (kept as unknown bytes by the view) is decoded by the real message.
/// The result, and the refusal of invalid UTF-8, are those of decoding the real message.
enum GenerateRequestDecoder {
    static func decode(_ bytes: ByteBuffer) throws(RPCError) -> Rampart_V1_GenerateRequest {
        let view = try message(Rampart_V1_GenerateRequestTextView.self, from: bytes)
        var request = try message(Rampart_V1_GenerateRequest.self, from: view.unknownFields.data)
        request.prompt = try text(view.prompt)
        if !view.messages.isEmpty {
            var messages: [Rampart_V1_ChatMessage] = []
            messages.reserveCapacity(view.messages.count)
            for part in view.messages {
                var message = try message(Rampart_V1_ChatMessage.self, from: part.unknownFields.data)
                message.content = try text(part.content)
                messages.append(message)
            }
            request.messages = messages
        }
        return request
    }

    private static func text(_ bytes: Data) throws(RPCError) -> String {
        if bytes.isEmpty { return "" }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw invalidUTF8 }
        return text
    }

    private static func message<M: SwiftProtobuf.Message>(_: M.Type, from bytes: some SwiftProtobufContiguousBytes) throws(RPCError) -> M {
        do {
            return try M(serializedBytes: bytes)
        } catch BinaryDecodingError.invalidUTF8 {
            throw invalidUTF8
        } catch {
            throw RPCError(.invalidArgument, "malformed \(Rampart_V1_GenerateRequest.protoMessageName): \(error)")
        }
    }

    private static var invalidUTF8: RPCError {
        RPCError(.invalidArgument, "invalid UTF-8 in a string field of \(Rampart_V1_GenerateRequest.protoMessageName)")
    }
}
