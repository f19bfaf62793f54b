import NIOCore
import RampartClient
import RampartCore
import RampartProto
import RampartServer
import RampartWire
import XCTest

/// `BlockingConnection` (the synchronous client of tools and `rampart bench rpc`) against a real
/// server: answers, error statuses, cached HEADERS across methods and timeouts, and a server that
/// goes away.
final class BlockingConnectionTests: XCTestCase {
    private func request(_ prompt: String) throws -> [UInt8] {
        var request = Rampart_V1_GenerateRequest()
        request.prompt = prompt
        request.params.maxTokens = 1_000  // the null backend echoes up to max_tokens pieces
        return try request.serializedBytes()
    }

    private func text(_ response: ByteBuffer) throws -> String {
        try Rampart_V1_GenerateResponse(serializedBytes: Array(response.readableBytesView)).text
    }

    func testManyCallsOnOneConnectionEachGetTheirOwnAnswer() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        let connection = try BlockingConnection(socketPath: settings.socketPath)
        var held: [ByteBuffer] = []
        for index in 0..<300 {
            // Sizes around the receive buffer's growth points, and answers kept alive across calls.
            let prompt = String(repeating: "p\(index % 10) ", count: 1 + (index * 37) % 700)
            let response = try connection.unary(InferenceService.generate, request: try request(prompt))
            XCTAssertEqual(try text(response), prompt)
            if index % 7 == 0 { held.append(response) }
        }
        for (offset, response) in held.enumerated() {
            let index = offset * 7
            XCTAssertEqual(try text(response), String(repeating: "p\(index % 10) ", count: 1 + (index * 37) % 700))
        }
        await server.shutdown()
    }

    func testErrorStatusesAreThrownAndTheConnectionStaysUsable() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        let connection = try BlockingConnection(socketPath: settings.socketPath)
        for _ in 0..<3 {
            XCTAssertThrowsError(try connection.unary("/rampart.v1.Nope/Missing", request: try request("x"))) { error in
                XCTAssertEqual((error as? RPCError)?.code, .unimplemented)
            }
            // Invalid UTF-8 in the prompt (field 1, length 2, bytes C3 28).
            XCTAssertThrowsError(try connection.unary(InferenceService.generate, request: [0x0A, 0x02, 0xC3, 0x28])) { error in
                XCTAssertEqual((error as? RPCError)?.code, .invalidArgument)
            }
            XCTAssertEqual(try text(try connection.unary(InferenceService.generate, request: try request("still here"))), "still here")
        }
        await server.shutdown()
    }

    func testHeadersFollowTheMethodAndTimeoutOfEachCall() async throws {
        let settings = testSettings()
        let server = try startServer(settings, backend: SlowBackend(tokens: 3, delay: .milliseconds(40)))
        let connection = try BlockingConnection(socketPath: settings.socketPath)
        // Alternating calls: a cached HEADERS payload of one (method, timeout) must never be sent for another.
        for _ in 0..<3 {
            XCTAssertThrowsError(try connection.unary(InferenceService.generate, request: try request("a"), timeoutMicros: 5_000)) { error in
                XCTAssertEqual((error as? RPCError)?.code, .deadlineExceeded)
            }
            XCTAssertNoThrow(try connection.unary(InferenceService.generate, request: try request("a"), timeoutMicros: 10_000_000))
            XCTAssertThrowsError(try connection.unary("/rampart.v1.Nope/Missing", request: try request("a"), timeoutMicros: 10_000_000)) { error in
                XCTAssertEqual((error as? RPCError)?.code, .unimplemented)
            }
            XCTAssertNoThrow(try connection.unary(InferenceService.generate, request: try request("a")))
        }
        await server.shutdown()
    }

    func testAServerThatGoesAwayIsUnavailable() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        let connection = try BlockingConnection(socketPath: settings.socketPath)
        XCTAssertEqual(try text(try connection.unary(InferenceService.generate, request: try request("one"))), "one")
        await server.shutdown()
        XCTAssertThrowsError(try connection.unary(InferenceService.generate, request: try request("two"))) { error in
            XCTAssertEqual((error as? RPCError)?.code, .unavailable)
        }
    }

    func testNoServerIsUnavailable() {
        XCTAssertThrowsError(try BlockingConnection(socketPath: makeTempDirectory() + "/none.sock")) { error in
            XCTAssertEqual((error as? RPCError)?.code, .unavailable)
        }
    }
}
