import NIOCore
import RampartClient
import RampartCore
import RampartProto
import RampartServer
import XCTest

/// Calls from tasks that prefer the connection's event loop (`RampartClient.taskExecutor`): they
/// run on that loop, many at once, and errors and cancellation behave as from any other task.
final class EventLoopExecutorCallTests: XCTestCase {
    func testCallsRunOnTheConnectionsLoopAndAnswerCorrectly() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        let loop = client.taskExecutor.eventLoop
        let texts = try await withThrowingTaskGroup(of: (Int, String, Bool).self) { group in
            for i in 0..<48 {
                group.addTask(executorPreference: client.taskExecutor) {
                    let response = try await client.generate(makeRequest("call \(i)"))
                    return (i, response.text, loop.inEventLoop)
                }
            }
            var out: [Int: String] = [:]
            for try await (i, text, onLoop) in group {
                XCTAssertTrue(onLoop, "call \(i) resumed off the connection's event loop")
                out[i] = text
            }
            return out
        }
        XCTAssertEqual(texts.count, 48)
        for (i, text) in texts { XCTAssertEqual(text, "call \(i)") }
        // A task that does not prefer the loop still works and does not run on it.
        let elsewhere = try await Task { try await client.generate(makeRequest("plain")).text }.value
        XCTAssertEqual(elsewhere, "plain")
        await client.close()
        await server.shutdown()
    }

    func testAClosedClientFailsCallsAndTasksPreferringItsLoopKeepRunning() async throws {
        let settings = testSettings()
        let server = try startServer(settings)
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        await client.close()  // shuts down the client's own event loop
        let outcome = try await withTaskExecutorPreference(client.taskExecutor) { () async throws -> String in
            await Task.yield()
            do {
                _ = try await client.generate(makeRequest("late"))
                return "answered"
            } catch let error as RPCError {
                return "\(error.code)"
            }
        }
        XCTAssertEqual(outcome, "\(StatusCode.unavailable)")
        // From any task: a call on a closed client fails at once, unary and streamed.
        do {
            _ = try await client.generate(makeRequest("later"))
            XCTFail("expected UNAVAILABLE")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .unavailable)
        }
        do {
            for try await _ in client.generateStream(makeRequest("later")) {}
            XCTFail("expected UNAVAILABLE")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .unavailable)
        }
        await server.shutdown()
    }

    func testErrorsAndCancellationOnTheLoop() async throws {
        let settings = testSettings()
        let backend = SlowBackend(tokens: 500, delay: .milliseconds(10))
        let server = try startServer(settings, backend: backend)
        let client = try await RampartClient.connect(socketPath: settings.socketPath)
        do {
            _ = try await withTaskExecutorPreference(client.taskExecutor) {
                try await client.unary("/rampart.v1.Nope/Missing", makeRequest("x"), as: Rampart_V1_GenerateResponse.self)
            }
            XCTFail("expected UNIMPLEMENTED")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .unimplemented)
        }
        let calls = backend.calls.load(ordering: .relaxed)
        let unary = Task(executorPreference: client.taskExecutor) { try await client.generate(makeRequest("go", maxTokens: 500)) }
        XCTAssertTrue(eventually { backend.calls.load(ordering: .relaxed) > calls })
        unary.cancel()
        do {
            _ = try await unary.value
            XCTFail("expected CANCELLED")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, .cancelled)
        }
        XCTAssertTrue(eventually { backend.stoppedEarly.load(ordering: .relaxed) }, "backend kept generating after cancel")
        XCTAssertTrue(eventually { server.metrics.streams == 0 })
        await client.close()
        await server.shutdown()
    }
}
