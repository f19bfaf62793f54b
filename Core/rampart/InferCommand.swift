import ArgumentParser
import Foundation
import RampartClient
import RampartCore
import RampartProto

/// `rampart infer`: one generation, streamed token by token to stdout.
struct InferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer", abstract: "Generate text through the sidecar (streams tokens by default).")

    @OptionGroup var client: ClientOptions

    @OptionGroup var credentials: CredentialOptions

    @Argument(help: "The prompt (a user message; with --raw, a raw prompt to continue).")
    var prompt: String

    @Option(name: .long, help: "A system message before the prompt.")
    var system: String?

    @Flag(name: .long, help: "Send the prompt as a raw prompt instead of a chat message.")
    var raw = false

    @Flag(name: .long, help: "Use the unary call and print the whole answer at once.")
    var noStream = false

    @Option(name: .long, help: "Maximum completion tokens (0 = server default).")
    var maxTokens: UInt32 = 0

    @Option(name: .long, help: "Sampling temperature in [0, 2].")
    var temperature: Float?

    @Option(name: .long, help: "Nucleus sampling mass in (0, 1].")
    var topP: Float?

    @Option(name: .long, help: "Top-k (0 disables).")
    var topK: UInt32 = 0

    @Option(name: .long, help: "Seed for reproducible sampling.")
    var seed: UInt64?

    @Option(name: .long, help: "Stop string (repeatable).")
    var stop: [String] = []

    @Option(name: .long, help: "Deadline in milliseconds.")
    var timeoutMs: Int?

    @Flag(name: .long, help: "Print a summary line (finish reason, tokens, model) to stderr.")
    var verbose = false

    func run() async throws {
        var request = Rampart_V1_GenerateRequest()
        if raw {
            request.prompt = prompt
        } else {
            if let system {
                var message = Rampart_V1_ChatMessage()
                message.role = .system
                message.content = system
                request.messages.append(message)
            }
            var message = Rampart_V1_ChatMessage()
            message.role = .user
            message.content = prompt
            request.messages.append(message)
        }
        request.params.maxTokens = maxTokens
        if let temperature { request.params.temperature = temperature }
        if let topP { request.params.topP = topP }
        request.params.topK = topK
        if let seed { request.params.seed = seed }
        request.params.stop = stop
        let options = CallOptions(timeout: timeoutMs.map { .milliseconds($0) }, metadata: try credentials.entries())

        let connection: RampartClient
        do {
            connection = try await RampartClient.connect(socketPath: client.socketPath, lz4: !client.noLz4)
        } catch {
            throw CLIError("error: cannot connect to \(client.socketPath): \(error)\n(is `rampart serve` running?)")
        }
        defer { Task { await connection.close() } }
        do {
            if noStream {
                let response = try await connection.generate(request, options: options)
                print(response.text)
                if verbose { summary(response.finishReason, response.usage, response.model, response.modelVersion, response.requestID) }
            } else {
                var last = Rampart_V1_GenerateChunk()
                var model = ("", "", "")
                for try await chunk in connection.generateStream(request, options: options) {
                    if !chunk.requestID.isEmpty { model = (chunk.model, chunk.modelVersion, chunk.requestID) }
                    FileHandle.standardOutput.write(Data(chunk.text.utf8))
                    last = chunk
                }
                FileHandle.standardOutput.write(Data("\n".utf8))
                if verbose { summary(last.finishReason, last.usage, model.0, model.1, model.2) }
            }
        } catch let error as RPCError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func summary(_ finish: Rampart_V1_FinishReason, _ usage: Rampart_V1_Usage, _ model: String, _ version: String, _ id: String) {
        FileHandle.standardError.write(Data(
            "[finish=\(finish) prompt_tokens=\(usage.promptTokens) completion_tokens=\(usage.completionTokens) model=\(model)@\(version) request_id=\(id)]\n".utf8))
    }
}

/// `rampart health`: the sidecar's status.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "health", abstract: "Check the sidecar's health.")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        do {
            let connection = try await RampartClient.connect(socketPath: client.socketPath, lz4: !client.noLz4)
            let health = try await connection.health(options: CallOptions(timeout: .seconds(5)))
            await connection.close()
            print("""
                status:   \(health.status)
                server:   rampart \(health.serverVersion) (protocol v\(health.protocolVersion))
                model:    \(health.model.name) \(health.model.version) (\(health.model.backend))
                uptime:   \(health.uptimeMs) ms
                streams:  \(health.activeStreams)
                """)
            if health.status != .serving { throw ExitCode(2) }
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
