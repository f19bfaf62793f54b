import RampartAuthCore
import RampartPluginKit
import RampartProto
import SwiftProtobuf

/// `rampart.v1.Auth/*` served by the plugin. By the time a call arrives here the plugin's own
/// request hook has authorized it (IssueToken is public and authenticates its credential here;
/// the others needed an admin scope and a TOTP code), so `call.context.principal` is the actor.
enum AuthMethods {
    static let issueToken = "rampart.v1.Auth/IssueToken"
    static let all = [
        issueToken, "rampart.v1.Auth/UpsertPrincipal", "rampart.v1.Auth/CreateKey", "rampart.v1.Auth/ListKeys",
        "rampart.v1.Auth/RevokeKey", "rampart.v1.Auth/RotateKey", "rampart.v1.Auth/RevokeTokens", "rampart.v1.Auth/RotateSigningKey",
    ]

    typealias Emit = ([AuthAuditEvent], [AuthSignal]) -> Void

    static func serve(_ call: Rampart_V1_PluginMethodCall, engine: AuthEngine, now: Double, emit: Emit) throws -> [UInt8] {
        let method = call.context.method.hasPrefix("/") ? String(call.context.method.dropFirst()) : call.context.method
        let actor = call.context.principal.id
        func decode<M: SwiftProtobuf.Message>(_ type: M.Type) throws -> M {
            do {
                return try M(serializedBytes: Array(call.body))
            } catch {
                throw PluginError.invalidArgument("malformed \(M.protoMessageName)")
            }
        }
        func answer<T, R: SwiftProtobuf.Message>(_ outcome: AuthOutcome<T>, _ body: (T) -> R) throws -> [UInt8] {
            emit(outcome.events, outcome.signals)
            switch outcome.result {
            case .success(let value): return try body(value).serializedBytes()
            case .failure(let denial):
                throw PluginError(PluginError.Status(rawValue: UInt32(denial.status.rawValue)) ?? .internal, denial.message)
            }
        }
        switch method {
        case issueToken:
            let request = try decode(Rampart_V1_IssueTokenRequest.self)
            let outcome = engine.issueToken(
                .init(metadata: call.metadata.map { (key: $0.key, value: MetadataValue($0)) }, peer: PeerIdentity(call.context),
                      scopes: request.scopes, ttlSeconds: Int(request.ttlSeconds)), now: now)
            return try answer(outcome) { Rampart_V1_IssueTokenResponse($0) }
        case "rampart.v1.Auth/UpsertPrincipal":
            let r = try decode(Rampart_V1_UpsertPrincipalRequest.self)
            let outcome = engine.upsertPrincipal(Principal(id: r.id, user: r.user, org: r.org, scopes: r.scopes), actor: actor, now: now)
            return try answer(outcome) { p in
                Rampart_V1_UpsertPrincipalResponse.with { $0.id = p.id; $0.scopes = p.scopes }
            }
        case "rampart.v1.Auth/CreateKey":
            let r = try decode(Rampart_V1_CreateKeyRequest.self)
            var ttl: Int?
            if case .ttlSeconds(let v)? = r.optTtlSeconds { ttl = Int(clamping: v) }
            var uid: UInt32?, gid: UInt32?
            if case .boundUid(let v)? = r.optBoundUid { uid = v }
            if case .boundGid(let v)? = r.optBoundGid { gid = v }
            let outcome = engine.createKey(principalID: r.principalID, scopes: r.scopes.isEmpty ? nil : r.scopes, label: r.label,
                                           ttlSeconds: ttl, boundUID: uid, boundGID: gid, actor: actor, now: now)
            return try answer(outcome) { created in
                Rampart_V1_CreateKeyResponse.with { $0.key = created.key; $0.info = Rampart_V1_ApiKeyInfo(created.info, now: now) }
            }
        case "rampart.v1.Auth/ListKeys":
            let r = try decode(Rampart_V1_ListKeysRequest.self)
            let outcome = engine.listKeys(principalID: r.principalID.isEmpty ? nil : r.principalID, actor: actor, now: now)
            return try answer(outcome) { keys in
                Rampart_V1_ListKeysResponse.with { $0.keys = keys.map { Rampart_V1_ApiKeyInfo($0, now: now) } }
            }
        case "rampart.v1.Auth/RevokeKey":
            let r = try decode(Rampart_V1_RevokeKeyRequest.self)
            return try answer(engine.revokeKey(r.keyID, actor: actor, now: now)) { Rampart_V1_RevokeKeyResponse() }
        case "rampart.v1.Auth/RotateKey":
            let r = try decode(Rampart_V1_RotateKeyRequest.self)
            var grace: Int?
            if case .graceSeconds(let v)? = r.optGraceSeconds { grace = Int(clamping: v) }
            let outcome = engine.rotateKey(r.keyID, graceSeconds: grace, actor: actor, now: now)
            let oldExpiry = now + Double(grace ?? engine.config.rotationGraceSeconds)
            return try answer(outcome) { created in
                Rampart_V1_RotateKeyResponse.with {
                    $0.key = created.key
                    $0.info = Rampart_V1_ApiKeyInfo(created.info, now: now)
                    $0.oldKeyExpiresAt = min(oldExpiry, created.info.expiresAt ?? oldExpiry)
                }
            }
        case "rampart.v1.Auth/RevokeTokens":
            let r = try decode(Rampart_V1_RevokeTokensRequest.self)
            var principal: String?, key: String?
            switch r.target {
            case .principalID(let p)?: principal = p
            case .keyID(let k)?: key = k
            case nil: throw PluginError.invalidArgument("name a principal_id or a key_id")
            }
            return try answer(engine.revokeTokens(principalID: principal, keyID: key, actor: actor, now: now)) { Rampart_V1_RevokeTokensResponse() }
        case "rampart.v1.Auth/RotateSigningKey":
            _ = try decode(Rampart_V1_RotateSigningKeyRequest.self)
            return try answer(engine.rotateSigningKey(actor: actor, now: now)) { kid in
                Rampart_V1_RotateSigningKeyResponse.with { $0.kid = kid }
            }
        default:
            throw PluginError.unimplemented("auth serves no method \(method)")
        }
    }
}
