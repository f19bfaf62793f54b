import ArgumentParser

/// `rampart`: the security sidecar for local AI inference.
@main
struct RampartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rampart",
        abstract: "A security sidecar for local AI inference.",
        discussion: """
            Apps call Rampart over a framed protobuf RPC on a Unix socket (docs/PROTOCOL.md).
            Start a development sidecar with `rampart serve --dev`, then try `rampart infer "Hello"`.
            """,
        version: "0.1.0",
        subcommands: [ServeCommand.self, InferCommand.self, HealthCommand.self, BenchCommand.self, KeygenCommand.self, SignCommand.self, VerifyCommand.self, PluginHostCommand.self,
                      EvalPII.self]
    )
}

/// Options shared by the client commands.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "The sidecar's Unix socket (default: $RAMPART_SOCKET or run/rampart.sock).")
    var socket: String?

    @Flag(name: .long, help: "Do not offer LZ4 compression.")
    var noLz4 = false

    var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment["RAMPART_SOCKET"] ?? "run/rampart.sock"
    }
}

import Foundation

/// A command failure: ArgumentParser prints the message and exits with status 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) {
        self.description = description.hasPrefix("error: ") ? String(description.dropFirst(7)) : description
    }
}
