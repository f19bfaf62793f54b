import NIOCore
import NIOPosix
import RampartChain
import RampartCore

/// Runs the chain around calls that are not inference calls (ABI 1.1):
/// - the **gate**: before Health, Admin and embedding applications' methods, the request hooks of
///   plugins that see every RPC (authentication, RBAC) run; a deny ends the call with its status;
/// - **plugin-served methods**: a path no built-in handler serves is looked up in the current
///   chain's method table, gated the same way, then answered by the plugin.
///
/// Both run on the worker pool (plugins are native code that may block) and cost nothing when
/// no plugin gates all methods.
struct ChainGate: Sendable {
    let chains: ChainHolder
    let pool: NIOThreadPool

    /// `handler`, behind the gate.
    func gated(_ handler: @escaping MethodHandler) -> MethodHandler {
        { [self] call in
            let chain = chains.current
            guard chain.gatesAllMethods else { return handler(call) }
            passGate(call, chain) { _, _ in
                call.responder.eventLoop.execute { handler(call) }
                return nil
            }
        }
    }

    /// The handler for a plugin-served method, if the current chain has one for `path`.
    func pluginMethod(_ path: String) -> MethodHandler? {
        let method = PluginChain.methodKey(path)
        guard chains.current.methodTable[method] != nil else { return nil }
        return { [self] call in
            passGate(call, chains.current) { chainCall, body throws(RPCError) in
                let response = try chainCall.callMethod(method, body: body, metadata: call.context.metadata)
                call.responder.finish(serialized: response, metadata: chainCall.responseMetadata)
                return response.count
            }
        }
    }

    /// On the worker pool: the gate, then `then`, with the chain call ended either way. `then`
    /// answers the call itself and returns the bytes it delivered (nil: the handler answers later).
    private func passGate(_ call: ServerCall, _ chain: PluginChain,
                          then: @escaping @Sendable (ChainCall, [UInt8]) throws(RPCError) -> Int?) {
        let responder = call.responder
        let body: [UInt8]
        do throws(RPCError) { body = try call.messageBytes() } catch { return responder.finish(error) }
        pool.submit { state in
            guard state == .active else { return responder.finish(RPCError(.unavailable, "worker pool is shutting down")) }
            let chainCall = chain.begin(responder.context)
            do throws(RPCError) {
                try chainCall.authorize(body: body, metadata: responder.context.metadata)
                let delivered = try then(chainCall, body)
                chainCall.end(finish: .unspecified, usage: .init(), status: .ok, deliveredBytes: delivered ?? 0)
            } catch {
                chainCall.end(finish: .unspecified, usage: .init(), status: error.code, deliveredBytes: 0)
                responder.finish(error)
            }
        }
    }
}
