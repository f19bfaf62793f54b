import ArgumentParser
import Foundation
import RampartAuthCore
import RampartClient
import RampartProto
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#endif

// Shared by `rampart principal | keys | token | totp` (docs/AUTH.md): each command works either
// offline on the store file (`--db`, for the operator who owns it: bootstrap and recovery) or
// online through the running sidecar's admin RPCs (`--socket`, with an admin credential and a
// TOTP code).

/// Where the auth store lives (offline mode).
struct AuthStoreOptions: ParsableArguments {
    @Option(name: .long, help: "The auth store (SQLite). With --db the command works offline on the file.")
    var db: String?

    @Option(name: .long, help: "The store secret (default: <db>.secret).")
    var secretFile: String?

    @Option(name: .long, help: "Signing key directory (default: <db directory>/signing-keys).")
    var signingKeyDir: String?

    @Option(name: .long, help: "Token issuer (must match the plugin's `issuer`).")
    var issuer = "rampart"

    @Option(name: .long, help: "Token audience (must match the plugin's `audience`).")
    var audience = "rampart"

    /// The engine over the store, creating it on first use.
    func engine() throws -> AuthEngine {
        guard let db else { throw CLIError("--db is required offline") }
        var config = AuthConfig(db: db)
        if let secretFile { config.secretFile = secretFile }
        if let signingKeyDir { config.signingKeyDir = signingKeyDir }
        config.issuer = issuer
        config.audience = audience
        do {
            return try AuthEngine(config: config, now: unixNow())
        } catch {
            throw CLIError("cannot open the auth store: \(error)")
        }
    }
}

/// Credentials sent with a call (`rampart infer`, online admin commands). Secrets are better
/// passed through the environment ($RAMPART_TOKEN, $RAMPART_API_KEY) than on the command line.
struct CredentialOptions: ParsableArguments {
    @Option(name: .long, help: "Bearer token (default: $RAMPART_TOKEN).")
    var token: String?

    @Option(name: .long, help: "Read the bearer token from this file (keeps it off the command line).")
    var tokenFile: String?

    @Option(name: .long, help: "API key (default: $RAMPART_API_KEY).")
    var apiKey: String?

    @Option(name: .long, help: "TOTP code for admin methods (x-rampart-totp).")
    var totp: String?

    @Option(name: .long, help: "Extra metadata entry key=value (repeatable).")
    var metadata: [String] = []

    /// The call's metadata.
    func entries() throws -> [String: String] {
        var out: [String: String] = [:]
        for item in metadata {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw ValidationError("--metadata expects key=value, got \"\(item)\"")
            }
            out[String(item[..<eq]).lowercased()] = String(item[item.index(after: eq)...])
        }
        let env = ProcessInfo.processInfo.environment
        var fileToken: String?
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else { throw CLIError("cannot read --token-file \(tokenFile)") }
            fileToken = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let token = token ?? fileToken ?? env["RAMPART_TOKEN"], !token.isEmpty {
            out["authorization"] = "Bearer " + token
        } else if let key = apiKey ?? env["RAMPART_API_KEY"], !key.isEmpty {
            out["authorization"] = "Bearer " + key
        }
        if let totp { out["x-rampart-totp"] = totp }
        return out
    }
}

/// Offline (--db) or online (--socket) target of an admin command.
struct AdminTarget: ParsableArguments {
    @OptionGroup var store: AuthStoreOptions
    @OptionGroup var client: ClientOptions
    @OptionGroup var credentials: CredentialOptions

    var offline: Bool { store.db != nil }

    /// One admin RPC to the sidecar.
    func call<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: String, _ request: Request, as: Response.Type = Response.self
    ) async throws -> Response {
        let connection: RampartClient
        do {
            connection = try await RampartClient.connect(socketPath: client.socketPath, lz4: !client.noLz4)
        } catch {
            throw CLIError("cannot connect to \(client.socketPath): \(error) (or use --db to work offline on the store)")
        }
        do {
            let response: Response = try await connection.unary(
                "/rampart.v1.Auth/\(method)", request,
                options: CallOptions(timeout: .seconds(10), metadata: try credentials.entries()))
            await connection.close()
            return response
        } catch {
            await connection.close()
            throw CLIError("\(error)")
        }
    }
}

/// Unix time now, in seconds.
func unixNow() -> Double { Date().timeIntervalSince1970 }

/// Parses `90`, `90s`, `15m`, `12h`, `30d` into seconds.
func parseDuration(_ text: String) throws -> Int {
    let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
    var digits = Substring(text)
    var unit = 1
    if let last = text.last, let u = units[last] {
        unit = u
        digits = text.dropLast()
    }
    guard let n = Int(digits), n >= 0, n <= Int.max / unit else { throw ValidationError("not a duration: \(text) (e.g. 90s, 15m, 12h, 30d)") }
    return n * unit
}

/// Comma- or space-separated scopes.
func parseScopes(_ text: String?) -> [String]? {
    guard let text else { return nil }
    return text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
}

/// The result of an offline engine operation, or a CLI error with the engine's message.
func unwrap<T>(_ outcome: AuthOutcome<T>) throws -> T {
    switch outcome.result {
    case .success(let value): return value
    case .failure(let denial): throw CLIError(denial.message)
    }
}

/// The invoking process's identity, used as the peer for offline token issue.
func localPeer() -> PeerIdentity { PeerIdentity(pid: getpid(), uid: getuid(), gid: getgid()) }

/// An RFC 3339 UTC time.
func timeText(_ unix: Double) -> String {
    let formatter = ISO8601DateFormatter()
    return formatter.string(from: Date(timeIntervalSince1970: unix))
}
