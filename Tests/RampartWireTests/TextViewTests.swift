import Foundation
import NIOCore
import RampartCore
import RampartProto
@testable import RampartWire
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

    /// A text field given twice keeps the last value, but the real message validates every
    /// occurrence: an earlier invalid one is refused there, and so here.
    func testAnInvalidEarlierOccurrenceOfATextFieldIsRefused() throws {
        let bad: [UInt8] = [0x68, 0xC3, 0x28]
        func field(_ number: UInt8, _ payload: [UInt8]) -> [UInt8] { [number << 3 | 2, UInt8(payload.count)] + payload }
        let cases: [(String, [UInt8])] = [
            ("prompt twice", field(2, bad) + field(2, Array("fine".utf8))),
            ("message content twice", field(1, [0x08, 0x02] + field(2, bad) + field(2, Array("fine".utf8)))),
            ("second message's content twice", field(1, [0x08, 0x02] + field(2, Array("ok".utf8)))
                + field(1, [0x08, 0x02] + field(2, bad) + field(2, Array("fine".utf8)))),
        ]
        for (name, bytes) in cases {
            let (view, direct) = decodeBoth(bytes)
            XCTAssertThrowsError(try direct.get(), name)
            XCTAssertThrowsError(try view.get(), name) { error in
                XCTAssertEqual((error as? RPCError)?.code, .invalidArgument, name)
            }
        }
        // Valid repetitions still decode, the last value winning, as in the real message.
        let twice = field(1, [0x08, 0x02] + field(2, Array("first".utf8)) + field(2, Array("last".utf8)))
        let (view, direct) = decodeBoth(twice)
        XCTAssertEqual(try view.get(), try direct.get())
        XCTAssertEqual(try view.get().messages.first?.content, "last")
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

/// Prompt-only requests skip the view: the prompt is validated in place and the fields around
/// it are merged by the real message. Same result as decoding the real message, or no result
/// (and the view path decides).
final class PromptInPlaceTests: XCTestCase {
    private func field(_ number: UInt8, _ payload: [UInt8]) -> [UInt8] { [number << 3 | 2, UInt8(payload.count)] + payload }

    func testAPromptBetweenOtherFieldsDecodesInPlaceAsTheRealMessageDoes() throws {
        var params = Rampart_V1_SamplingParams()
        params.maxTokens = 9
        params.stop = ["END"]
        let prompt = "Grüße 🙂 aus Köln"
        let bytes = field(4, Array("mödel".utf8)) + field(2, Array(prompt.utf8)) + [0xA0, 0x06, 0x2A]  // + field 100 = 42
            + field(3, try params.serializedBytes())
        let inPlace = try XCTUnwrap(Rampart_V1_GenerateRequest(promptInPlace: ByteBuffer(bytes: bytes)), "the fast path must take this shape")
        XCTAssertEqual(inPlace, try Rampart_V1_GenerateRequest(serializedBytes: bytes))
        XCTAssertEqual(inPlace.prompt, prompt)
        XCTAssertEqual(inPlace.params.stop, ["END"])
        XCTAssertEqual(inPlace.unknownFields.data, Data([0xA0, 0x06, 0x2A]))
        // The prompt first, last, alone, empty, absent.
        for bytes in [field(2, Array(prompt.utf8)) + field(4, Array("m".utf8)), field(4, Array("m".utf8)) + field(2, Array(prompt.utf8)),
                      field(2, Array(prompt.utf8)), field(2, []), field(4, Array("m".utf8)), []] {
            let inPlace = try XCTUnwrap(Rampart_V1_GenerateRequest(promptInPlace: ByteBuffer(bytes: bytes)), "\(bytes)")
            XCTAssertEqual(inPlace, try Rampart_V1_GenerateRequest(serializedBytes: bytes), "\(bytes)")
        }
    }

    func testOtherShapesAndBadBytesAreLeftToTheView() {
        let cases: [(String, [UInt8])] = [
            ("chat messages", field(1, [0x08, 0x02] + field(2, Array("hi".utf8)))),
            ("two prompts", field(2, Array("a".utf8)) + field(2, Array("b".utf8))),
            ("prompt as a varint", [0x10, 0x05]),
            ("a group", [0x1B, 0x1C]),
            ("length past the end", [0x12, 0x05, 0x61]),
            ("truncated varint", [0x18, 0xFF]),
            ("field number 0", [0x02, 0x00]),
            ("invalid UTF-8 prompt", field(2, [0x68, 0xC3, 0x28])),
            ("malformed params around a prompt", field(2, Array("ok".utf8)) + field(3, [0x0A, 0x09])),
        ]
        for (name, bytes) in cases {
            XCTAssertNil(Rampart_V1_GenerateRequest(promptInPlace: ByteBuffer(bytes: bytes)), name)
        }
    }

    /// Random corruptions of a valid request: whenever the fast path answers, the real message
    /// gives the same; and the public decoder succeeds exactly when the real message does.
    func testCorruptedEncodingsAgreeWithTheRealMessage() throws {
        var request = Rampart_V1_GenerateRequest()
        request.prompt = "Summarise: Grüße, 日本, 🙂 and plain ASCII text."
        request.model = "m"
        request.params.maxTokens = 5
        request.params.temperature = 0.25
        assertCorruptionsAgree(try request.serializedBytes(),
                               fast: { Rampart_V1_GenerateRequest(promptInPlace: ByteBuffer(bytes: $0)) },
                               decoded: { try? Rampart_V1_GenerateRequest(viaTextView: ByteBuffer(bytes: $0)) })
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
        // Also when a valid text follows the broken one (the view alone would keep only the last).
        let twice = bytes + [0x0A, 0x02, 0x6F, 0x6B]
        XCTAssertThrowsError(try Rampart_V1_GenerateResponse(serializedBytes: twice))
        XCTAssertThrowsError(try Rampart_V1_GenerateResponse(viaTextView: ByteBuffer(bytes: twice)))
        let valid: [UInt8] = [0x0A, 0x02, 0x61, 0x62, 0x0A, 0x02, 0x6F, 0x6B]
        XCTAssertEqual(try Rampart_V1_GenerateResponse(viaTextView: ByteBuffer(bytes: valid)).text, "ok")
    }
}

/// A response with one `text` skips the view as a prompt-only request does: same result as the
/// real message, or no result (and the view decides).
final class ResponseTextInPlaceTests: XCTestCase {
    private func field(_ number: UInt8, _ payload: [UInt8]) -> [UInt8] { [number << 3 | 2, UInt8(payload.count)] + payload }

    func testTheUsualShapeDecodesInPlaceAsTheRealMessageDoes() throws {
        var response = Rampart_V1_GenerateResponse()
        response.text = "Antwort 🙂 mit Umlauten: äöü"
        response.model = "null"
        response.requestID = "r-9"
        response.finishReason = .length
        response.usage.completionTokens = 7
        var logprob = Rampart_V1_TokenLogprob()
        logprob.token = "Antwort"
        logprob.logprob = -0.25
        response.logprobs = [logprob]
        let bytes: [UInt8] = try response.serializedBytes() + [0xA0, 0x06, 0x2A]  // + field 100 = 42, unknown
        let inPlace = try XCTUnwrap(Rampart_V1_GenerateResponse(textInPlace: ByteBuffer(bytes: bytes)), "the fast path must take this shape")
        XCTAssertEqual(inPlace, try Rampart_V1_GenerateResponse(serializedBytes: bytes))
        XCTAssertEqual(inPlace.text, response.text)
        XCTAssertEqual(inPlace.unknownFields.data, Data([0xA0, 0x06, 0x2A]))
        // The text first, last, alone, empty, absent.
        for bytes in [field(1, Array("hallo".utf8)) + field(4, Array("m".utf8)), field(4, Array("m".utf8)) + field(1, Array("hallo".utf8)),
                      field(1, Array("hallo".utf8)), field(1, []), field(4, Array("m".utf8)), []] {
            let inPlace = try XCTUnwrap(Rampart_V1_GenerateResponse(textInPlace: ByteBuffer(bytes: bytes)), "\(bytes)")
            XCTAssertEqual(inPlace, try Rampart_V1_GenerateResponse(serializedBytes: bytes), "\(bytes)")
        }
    }

    func testOtherShapesAndBadBytesAreLeftToTheView() {
        let cases: [(String, [UInt8])] = [
            ("two texts", field(1, Array("a".utf8)) + field(1, Array("b".utf8))),
            ("text as a varint", [0x08, 0x05]),
            ("length past the end", [0x0A, 0x05, 0x61]),
            ("invalid UTF-8 text", field(1, [0x68, 0xC3, 0x28])),
            ("invalid UTF-8 model around a text", field(1, Array("ok".utf8)) + field(4, [0xC3, 0x28])),
            ("malformed usage around a text", field(1, Array("ok".utf8)) + field(2, [0x08])),
        ]
        for (name, bytes) in cases {
            XCTAssertNil(Rampart_V1_GenerateResponse(textInPlace: ByteBuffer(bytes: bytes)), name)
        }
    }

    /// Random corruptions of a valid response: whenever the fast path answers, the real message
    /// gives the same; and the public decoder succeeds exactly when the real message does.
    func testCorruptedEncodingsAgreeWithTheRealMessage() throws {
        var response = Rampart_V1_GenerateResponse()
        response.text = "Zusammenfassung: Grüße, 日本, 🙂 and plain ASCII text."
        response.model = "m"
        response.requestID = "r-1"
        response.usage.promptTokens = 5
        assertCorruptionsAgree(try response.serializedBytes(),
                               fast: { Rampart_V1_GenerateResponse(textInPlace: ByteBuffer(bytes: $0)) },
                               decoded: { try? Rampart_V1_GenerateResponse(viaTextView: ByteBuffer(bytes: $0)) })
    }
}

/// 3,000 random corruptions of `valid` (a byte changed, the tail cut, a byte inserted): whenever
/// `fast` answers, the real message gives the same; `decoded` (the public decoder) succeeds
/// exactly when the real message does; and `fast` answers often enough to have been exercised.
func assertCorruptionsAgree<M: SwiftProtobuf.Message & Equatable>(_ valid: [UInt8], fast: ([UInt8]) -> M?, decoded: ([UInt8]) -> M?,
                                                                  file: StaticString = #filePath, line: UInt = #line) {
    var generator = SystemRandomNumberGenerator()
    var fastAnswers = 0
    for round in 0..<3000 {
        var bytes = valid
        switch round % 3 {
        case 0: bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
        case 1: bytes.removeLast(Int.random(in: 1...bytes.count, using: &generator))
        default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: Int.random(in: 0...bytes.count, using: &generator))
        }
        let direct = try? M(serializedBytes: bytes)
        if let answer = fast(bytes) {
            fastAnswers += 1
            XCTAssertEqual(answer, direct, "\(bytes)", file: file, line: line)
        }
        XCTAssertEqual(decoded(bytes), direct, "\(bytes)", file: file, line: line)
    }
    XCTAssertGreaterThan(fastAnswers, 300, "the corruptions should often leave a decodable \(M.protoMessageName)", file: file, line: line)
}
