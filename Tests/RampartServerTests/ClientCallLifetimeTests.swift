import RampartCore
import RampartProto
import RampartServer
import XCTest

@testable import RampartClient

/// Every finished call of the async client is freed: answered, refused, streamed, cancelled while
/// running, cancelled before it started. (A call and its state once held each other, so every
/// call leaked with its answer: about 2 KB per 1 KB echo.)
final class ClientCallLifetimeTests: XCTestCase {
    func testFinishedCallsAreFreed() async throws {
        let settings = testSettings()
        let backend = SlowBackend(tokens: 500, delay: .milliseconds(5))
        let server = try startServer(settings)
        let slowSettings = testSettings()
        let slowServer = try startServer(slowSettings, backend: backend)
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        let slowClient = try await RampartClient.connect(socketPath: slowSettings.socketPath)
        let before = ClientCall.live.load(ordering: .relaxed)

        for i in 0..<200 {
            let text = try await client.generate(makeRequest("call \(i)")).text
            XCTAssertEqual(text, "call \(i)")
        }
        for _ in 0..<20 {
            do {
                _ = try await client.unary("/rampart.v1.Nope/Missing", makeRequest("x"), as: Rampart_V1_GenerateResponse.self)
                XCTFail("expected UNIMPLEMENTED")
            } catch let error as RPCError {
                XCTAssertEqual(error.code, .unimplemented)
            }
            var text = ""
            for try await chunk in client.generateStream(makeRequest("a b c")) { text += chunk.text }
            XCTAssertEqual(text, "a b c")
        }
        // Cancelled while the backend runs, and cancelled before the call could start.
        for _ in 0..<5 {
            let running = Task { try await slowClient.generate(makeRequest("go", maxTokens: 500)) }
            try await Task.sleep(for: .milliseconds(20))
            running.cancel()
            _ = try? await running.value
            let early = Task { try await slowClient.generate(makeRequest("go", maxTokens: 500)) }
            early.cancel()
            _ = try? await early.value
            var streamed = 0
            for try await _ in slowClient.generateStream(makeRequest("go", maxTokens: 500)) {
                streamed += 1
                if streamed == 2 { break }
            }
        }
        XCTAssertTrue(eventually { ClientCall.live.load(ordering: .relaxed) == before },
                      "\(ClientCall.live.load(ordering: .relaxed) - before) calls still alive")
        await client.close()
        await slowClient.close()
        await server.shutdown()
        await slowServer.shutdown()
    }
}
