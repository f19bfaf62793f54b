import ArgumentParser
import Foundation
import RampartAuthCore
import RampartProto

/// `rampart keys create|list|revoke|rotate`: API keys (shown once, stored as an HMAC).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys.",
        discussion: """
            Offline with --db (the store file's owner), or online through the sidecar's admin RPCs
            with an admin credential ($RAMPART_TOKEN) and --totp.
            """,
        subcommands: [Create.self, List.self, Revoke.self, Rotate.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Create an API key; prints it once on stdout.")
        @OptionGroup var target: AdminTarget
        @Option(name: .long, help: "The principal the key speaks for.") var principal: String
        @Option(name: .long, help: "Scopes (a subset of the principal's; default: all of them).") var scopes: String?
        @Option(name: .long, help: "Lifetime, e.g. 30d (default: no expiry).") var ttl: String?
        @Option(name: .long, help: "Accept the key only from this peer uid.") var bindUid: UInt32?
        @Option(name: .long, help: "Accept the key only from this peer gid.") var bindGid: UInt32?
        @Option(name: .long, help: "A label for listings.") var label = ""

        func run() async throws {
            let ttlSeconds = try ttl.map(parseDuration)
            let key: String, info: Rampart_V1_ApiKeyInfo
            if target.offline {
                let engine = try target.store.engine()
                let now = unixNow()
                let created = try unwrap(engine.createKey(principalID: principal, scopes: parseScopes(scopes), label: label,
                                                          ttlSeconds: ttlSeconds, boundUID: bindUid, boundGID: bindGid, actor: "cli", now: now))
                (key, info) = (created.key, Rampart_V1_ApiKeyInfo(created.info, now: now))
            } else {
                var request = Rampart_V1_CreateKeyRequest()
                request.principalID = principal
                request.scopes = parseScopes(scopes) ?? []
                request.label = label
                if let ttlSeconds { request.ttlSeconds = UInt64(ttlSeconds) }
                if let bindUid { request.boundUid = bindUid }
                if let bindGid { request.boundGid = bindGid }
                let response = try await target.call("CreateKey", request, as: Rampart_V1_CreateKeyResponse.self)
                (key, info) = (response.key, response.info)
            }
            print(key)
            FileHandle.standardError.write(Data("created key \(info.line)\n(the key above is shown once; it is stored only as an HMAC)\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List keys (never their secrets).")
        @OptionGroup var target: AdminTarget
        @Option(name: .long, help: "Only this principal's keys.") var principal: String?

        func run() async throws {
            if target.offline {
                let engine = try target.store.engine()
                let now = unixNow()
                for info in try unwrap(engine.listKeys(principalID: principal, actor: "cli", now: now)) {
                    print(Rampart_V1_ApiKeyInfo(info, now: now).line)
                }
            } else {
                var request = Rampart_V1_ListKeysRequest()
                request.principalID = principal ?? ""
                for info in try await target.call("ListKeys", request, as: Rampart_V1_ListKeysResponse.self).keys { print(info.line) }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke", abstract: "Revoke a key and every token exchanged for it, at once.")
        @OptionGroup var target: AdminTarget
        @Argument(help: "The key id (see `keys list`).") var id: String

        func run() async throws {
            if target.offline {
                try unwrap(target.store.engine().revokeKey(id, actor: "cli", now: unixNow()))
            } else {
                var request = Rampart_V1_RevokeKeyRequest()
                request.keyID = id
                _ = try await target.call("RevokeKey", request, as: Rampart_V1_RevokeKeyResponse.self)
            }
            print("revoked key \(id)")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate", abstract: "Replace a key; the old one lives for the grace period. Prints the new key once.")
        @OptionGroup var target: AdminTarget
        @Argument(help: "The key id to rotate.") var id: String
        @Option(name: .long, help: "Grace period of the old key, e.g. 1h (default: the configured rotation grace, 1d offline).")
        var grace: String?

        func run() async throws {
            let graceSeconds = try grace.map(parseDuration)
            let key: String, info: Rampart_V1_ApiKeyInfo
            if target.offline {
                let engine = try target.store.engine()
                let now = unixNow()
                let created = try unwrap(engine.rotateKey(id, graceSeconds: graceSeconds, actor: "cli", now: now))
                (key, info) = (created.key, Rampart_V1_ApiKeyInfo(created.info, now: now))
            } else {
                var request = Rampart_V1_RotateKeyRequest()
                request.keyID = id
                if let graceSeconds { request.graceSeconds = UInt64(graceSeconds) }
                let response = try await target.call("RotateKey", request, as: Rampart_V1_RotateKeyResponse.self)
                (key, info) = (response.key, response.info)
            }
            print(key)
            FileHandle.standardError.write(Data("rotated \(id) → \(info.id) (the old key works until its grace period ends)\n".utf8))
        }
    }
}
