import ArgumentParser
import Foundation
import RampartAuthCore
import RampartProto

/// `rampart token issue|verify|revoke|rotate-signing-key`: short-lived EdDSA JWTs.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue, verify and revoke short-lived tokens; rotate the signing key.",
        subcommands: [Issue.self, Verify.self, Revoke.self, RotateSigningKey.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "issue", abstract: "Exchange an API key (or this process's trusted uid) for a token; prints it.",
            discussion: "Online (default): the sidecar's rampart.v1.Auth/IssueToken. Offline with --db: signed locally.")
        @OptionGroup var target: AdminTarget
        @Option(name: .long, help: "Scopes to ask for (default: all of the credential's).") var scopes: String?
        @Option(name: .long, help: "Lifetime, e.g. 5m (default: the configured TTL, 15m).") var ttl: String?

        func run() async throws {
            let ttlSeconds = try ttl.map(parseDuration) ?? 0
            if target.offline {
                let engine = try target.store.engine()
                let metadata = try target.credentials.entries().map { (key: $0.key, value: MetadataValue.text($0.value)) }
                let issued = try unwrap(engine.issueToken(.init(metadata: metadata, peer: localPeer(), scopes: parseScopes(scopes) ?? [],
                                                                ttlSeconds: ttlSeconds), now: unixNow()))
                print(issued.token)
                FileHandle.standardError.write(Data("token for \(issued.claims.subject), scopes \(issued.claims.scopes.joined(separator: ",")), expires \(timeText(Double(issued.claims.expiresAt))), kid \(issued.kid)\n".utf8))
            } else {
                var request = Rampart_V1_IssueTokenRequest()
                request.scopes = parseScopes(scopes) ?? []
                request.ttlSeconds = UInt32(clamping: ttlSeconds)
                let response = try await target.call("IssueToken", request, as: Rampart_V1_IssueTokenResponse.self)
                print(response.token)
                FileHandle.standardError.write(Data("token for \(response.principalID), scopes \(response.scopes.joined(separator: ",")), expires \(timeText(Double(response.expiresAt))), kid \(response.kid)\n".utf8))
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Verify a token against the store's signing keys (offline); prints its claims.")
        @OptionGroup var store: AuthStoreOptions
        @Argument(help: "The token (default: $RAMPART_TOKEN).") var token: String?

        func run() throws {
            guard let text = token ?? ProcessInfo.processInfo.environment["RAMPART_TOKEN"] else { throw CLIError("no token given") }
            let engine = try store.engine()
            let outcome = engine.authorize(AuthRequest(method: "rampart.v1.Inference/Generate",
                                                       metadata: [(key: "authorization", value: .text("Bearer " + text))], peer: localPeer()),
                                           now: unixNow())
            switch outcome.result {
            case .success(.allowed(let p)):
                print("valid: principal \(p.id), scopes \(p.scopes.joined(separator: ",")), key \(p.apiKeyID ?? "-")")
            case .success(.publicMethod):
                print("valid")
            case .failure(let denial):
                throw CLIError(denial.message)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke", abstract: "Revoke every token issued so far to a principal or for a key (effective at once).")
        @OptionGroup var target: AdminTarget
        @Option(name: .long, help: "The principal whose tokens to revoke.") var principal: String?
        @Option(name: .long, help: "The key whose tokens to revoke.") var key: String?

        func validate() throws {
            guard (principal == nil) != (key == nil) else { throw ValidationError("give exactly one of --principal and --key") }
        }

        func run() async throws {
            if target.offline {
                try unwrap(target.store.engine().revokeTokens(principalID: principal, keyID: key, actor: "cli", now: unixNow()))
            } else {
                var request = Rampart_V1_RevokeTokensRequest()
                if let principal { request.principalID = principal }
                if let key { request.keyID = key }
                _ = try await target.call("RevokeTokens", request, as: Rampart_V1_RevokeTokensResponse.self)
            }
            print("revoked the tokens of \(principal.map { "principal \($0)" } ?? "key \(key ?? "")")")
        }
    }

    struct RotateSigningKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-signing-key", abstract: "Start signing with a new key; the old one verifies until its overlap ends.")
        @OptionGroup var target: AdminTarget

        func run() async throws {
            let kid: String
            if target.offline {
                kid = try unwrap(target.store.engine().rotateSigningKey(actor: "cli", now: unixNow()))
            } else {
                kid = try await target.call("RotateSigningKey", Rampart_V1_RotateSigningKeyRequest(),
                                            as: Rampart_V1_RotateSigningKeyResponse.self).kid
            }
            print("signing with \(kid)")
        }
    }
}
