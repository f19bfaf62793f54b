import Foundation
import NIOCore
import RampartCore
import RampartProto
import RampartWire
import SwiftProtobuf
import XCTest

/// Decoding through the text views gives exactly what decoding the real messages gives.
final class GenerateRequestTextViewTests: XCTestCase {
    private func richRequest() -> Rampart_V1_GenerateRequest {
        var request = Rampart_V1_GenerateRequest()
        request.model = "mödel"
        request.clientRequestID = "client-7"
        request.params.maxTokens = 12
        request.params.temperature = 0.5
        request.params.stop = ["\n\n", "ende"]
        request.params.logitBias = [3: -1.5]
        var tool = Rampart_V1_ToolDefinition()
        tool.name = "search"
        tool.description_p = "Sucht im Netz"
        tool.parametersJson = #"{"type":"object"}"#
        request.tools = [tool]
        var system = Rampart_V1_ChatMessage()
        system.role = .system
        system.content = "You are terse. 日本語も少し。"
        var assistant = Rampart_V1_ChatMessage()
        assistant.role = .assistant
        assistant.content = ""
        var toolCall = Rampart_V1_ToolCall()
        toolCall.id = "call-1"
        toolCall.name = "search"
        toolCall.argumentsJson = #"{"q":"rampart"}"#
        assistant.toolCalls = [toolCall]
        var toolAnswer = Rampart_V1_ChatMessage()
        toolAnswer.role = .tool
        toolAnswer.name = "search"
        toolAnswer.toolCallID = "call-1"
        toolAnswer.content = String(repeating: "result 🙂 ", count: 300)
        request.messages = [system, assistant, toolAnswer]
        return request
    }

    private func decodeBoth(_ bytes: [UInt8]) -> (view: Result<Rampart_V1_GenerateRequest, RPCError>, direct: Result<Rampart_V1_GenerateRequest, any Error>) {
        let buffer = ByteBuffer(bytes: bytes)
        let view = Result { () throws(RPCError) in try Rampart_V1_GenerateRequest(viaTextView: buffer) }
        let direct = Result { try Rampart_V1_GenerateRequest(serializedBytes: bytes) }
        return (view, direct)
    }

    func testChatAndPromptRequestsDecodeAsTheRealMessageDoes() throws {
        var prompt = Rampart_V1_GenerateRequest()
        prompt.prompt = String(repeating: "Grüße aus Köln. ", count: 100)
        prompt.params.maxTokens = 3
        for request in [richRequest(), prompt, Rampart_V1_GenerateRequest()] {
            let bytes: [UInt8] = try request.serializedBytes()
            let (view, direct) = decodeBoth(bytes)
            XCTAssertEqual(try view.get(), try direct.get())
            XCTAssertEqual(try view.get(), request)
        }
    }

    func testFieldsUnknownToBothAndRepeatedFieldsSurvive() throws {
        var bytes: [UInt8] = try richRequest().serializedBytes()
        bytes += [0xA0, 0x06, 0x2A]  // field 100, varint 42: unknown to GenerateRequest
        var second = Rampart_V1_GenerateRequest()
        second.prompt = "later prompt wins"
        bytes += try second.serializedBytes()  // a second occurrence of prompt: proto3 keeps the last
        let (view, direct) = decodeBoth(bytes)
        XCTAssertEqual(try view.get(), try direct.get())
        XCTAssertEqual(try view.get().prompt, "later prompt wins")
        XCTAssertEqual(try view.get().unknownFields.data, Data([0xA0, 0x06, 0x2A]))
    }

    func testInvalidUTF8IsRefusedWhereverItIs() throws {
        let bad: [UInt8] = [0x68, 0x69, 0xC3, 0x28]  // "hi" then a broken two-byte sequence
        func field(_ number: UInt8, _ payload: [UInt8]) -> [UInt8] { [number << 3 | 2, UInt8(payload.count)] + payload }
        let cases: [(String, [UInt8])] = [
            ("prompt", field(2, bad)),
            ("message content", field(1, [0x08, 0x02] + field(2, bad))),  // ChatMessage { role: user, content }
            ("message name", field(1, [0x08, 0x02] + field(2, Array("ok".utf8)) + field(3, bad))),
            ("model", field(2, Array("fine".utf8)) + field(4, bad)),
        ]
        for (name, bytes) in cases {
            let (view, direct) = decodeBoth(bytes)
            XCTAssertThrowsError(try direct.get(), name)
            XCTAssertThrowsError(try view.get(), name) { error in
                XCTAssertEqual((error as? RPCError)?.code, .invalidArgument, name)
                XCTAssertTrue((error as? RPCError)?.message.contains("invalid UTF-8") ?? false, "\(name): \(error)")
            }
        }
    }

    func testMalformedBytesAreInvalidArgument() {
        for bytes: [UInt8] in [[0x12, 0x05, 0x61], [0x0A, 0x03, 0x12, 0x09, 0x61], [0xFF], [0x12]] {
            let (view, direct) = decodeBoth(bytes)
            XCTAssertThrowsError(try direct.get())
            XCTAssertThrowsError(try view.get()) { error in
                XCTAssertEqual((error as? RPCError)?.code, .invalidArgument)
                XCTAssertTrue((error as? RPCError)?.message.contains("malformed rampart.v1.GenerateRequest") ?? false, "\(error)")
            }
        }
    }
}

/// The client reads `GenerateResponse` through its text view: same result as the real message.
final class GenerateResponseTextViewTests: XCTestCase {
    func testResponsesDecodeAsTheRealMessageDoes() throws {
        var response = Rampart_V1_GenerateResponse()
        response.text = String(repeating: "Antwort mit Umlauten äöü und 🙂. ", count: 60)
        response.model = "null"
        response.modelVersion = "1"
        response.requestID = "r-1"
        response.finishReason = .stop
        response.usage.promptTokens = 3
        var logprob = Rampart_V1_TokenLogprob()
        logprob.token = "Antwort"
        logprob.logprob = -0.5
        response.logprobs = [logprob]
        for message in [response, Rampart_V1_GenerateResponse()] {
            let bytes: [UInt8] = try message.serializedBytes()
            XCTAssertEqual(try Rampart_V1_GenerateResponse(viaTextView: ByteBuffer(bytes: bytes)), message)
        }
    }

    func testInvalidUTF8InTheTextIsRefused() {
        let bytes: [UInt8] = [0x0A, 0x03, 0x61, 0xE2, 0x28]  // text: "a" then a broken sequence
        XCTAssertThrowsError(try Rampart_V1_GenerateResponse(serializedBytes: bytes))
        XCTAssertThrowsError(try Rampart_V1_GenerateResponse(viaTextView: ByteBuffer(bytes: bytes)))
    }
}
