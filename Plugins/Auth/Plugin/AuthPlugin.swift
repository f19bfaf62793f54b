import Foundation
import RampartAuthCore
import RampartPluginKit
import SwiftProtobuf

/// The auth plugin: authenticates every RPC (API key, EdDSA token or trusted peer uid), applies
/// the RBAC table and TOTP step-up, sets the call's principal, and serves `rampart.v1.Auth/*`
/// (token exchange and key administration). Config: see ``AuthConfig`` and docs/AUTH.md.
public final class AuthPlugin: RampartPlugin {
    public static let name = "auth"
    public static let version = "1.0.0"
    public static let hooks: PluginHooks = [.request]
    public static let isThreadSafe = true
    public static let seesAllMethods = true
    public static let methods = AuthMethods.all

    let engine: AuthEngine
    /// Authentication looks at who is calling; the request itself matters only for feature scopes
    /// (logprobs, tools, ...). Without them the kit skips decoding the prompt.
    public let decodesRequestBody: Bool
    let signalTTLMillis: UInt64

    public init(config: [UInt8], host: PluginHost) throws {
        let made = Self.makeEngine(config, now: Self.now(host))
        guard case .success(let engine) = made else {
            if case .failure(let error) = made { throw PluginError.invalidArgument("auth: \(error.message)") }
            throw PluginError.internal("auth: no engine")
        }
        self.engine = engine
        decodesRequestBody = !engine.config.featureScopes.isEmpty
        signalTTLMillis = UInt64(engine.config.lockout.windowSeconds) * 1000
        let kid = engine.keyring.activeKey()?.info.kid ?? "none"
        host.log(.info, "auth: store \(engine.config.db), signing key \(kid), issuer \(engine.config.issuer), audience \(engine.config.audience)")
    }

    static func makeEngine(_ config: [UInt8], now: Double) -> Result<AuthEngine, AuthError> {
        Result { () throws(AuthError) in try AuthEngine(config: AuthConfig.parse(config), now: now) }
    }

    static func now(_ host: PluginHost) -> Double { Double(host.wallClockNanoseconds) / 1e9 }

    /// Reads the caller through the view (no protobuf built); the whole request only when feature
    /// scopes are configured.
    public func onRequest(_ view: RequestView, context: PluginCallContext) throws -> Rampart_V1_Verdict {
        var features: Set<String> = []
        if decodesRequestBody {
            let request = try view.request()
            if request.hasRequest { features = requestFeatures(request.request) }
        }
        let peer = view.peer.map { PeerIdentity(pid: $0.pid, uid: $0.uid, gid: $0.gid) }
        let outcome = engine.authorize(
            AuthRequest(method: view.method, metadata: view.metadata.map { (key: $0.key, value: MetadataValue.text($0.value)) },
                        peer: peer, features: features),
            now: Self.now(context.host))
        emit(outcome, context.host)
        switch outcome.result {
        case .success(.publicMethod):
            return .pass
        case .success(.allowed(let principal)):
            return .mutate { $0.principal = Rampart_V1_Principal(principal) }
        case .failure(let denial):
            return .deny(code: DenyCode(rawValue: denial.status.rawValue), message: denial.message, retryAfterMs: denial.retryAfterMs)
        }
    }

    public func onMethod(_ call: Rampart_V1_PluginMethodCall, context: PluginCallContext) throws -> [UInt8] {
        try AuthMethods.serve(call, engine: engine, now: Self.now(context.host)) { outcomeEvents, signals in
            for event in outcomeEvents { context.host.audit(event.message) }
            for signal in signals { context.host.publishSignal(signal.name, signal.value, ttlMillis: signalTTLMillis) }
        }
    }

    private func emit<T>(_ outcome: AuthOutcome<T>, _ host: PluginHost) {
        for event in outcome.events { host.audit(event.message) }
        for signal in outcome.signals { host.publishSignal(signal.name, signal.value, ttlMillis: signalTTLMillis) }
    }
}

/// The library's one exported symbol.
@_cdecl("rampart_plugin_v1")
public func rampartPluginV1(_ major: UInt16, _ minor: UInt16) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: AuthPlugin.self, hostMajor: major, hostMinor: minor)
}
