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
        { [chains, pool] call in
            let chain = chains.current
            guard chain.gatesAllMethods else { return handler(call) }
            let responder = call.responder
            let body: [UInt8]
            do throws(RPCError) { body = try call.messageBytes() } catch { return responder.finish(error) }
            pool.submit { state in
                guard state == .active else { return responder.finish(RPCError(.unavailable, "worker pool is shutting down")) }
                let chainCall = chain.begin(responder.context)
                do throws(RPCError) {
                    try chainCall.authorize(body: body, metadata: responder.context.metadata)
                } catch {
                    chainCall.end(finish: .unspecified, usage: .init(), status: error.code, deliveredBytes: 0)
                    return responder.finish(error)
                }
                chainCall.end(finish: .unspecified, usage: .init(), status: .ok, deliveredBytes: 0)
                responder.eventLoop.execute { handler(call) }
            }
        }
    }

    /// The handler for a plugin-served method, if the current chain has one for `path`.
    func pluginMethod(_ path: String) -> MethodHandler? {
        let method = Self.normalized(path)
        guard chains.current.methodTable[method] != nil else { return nil }
        return { [chains, pool] call in
            let chain = chains.current
            let responder = call.responder
            let body: [UInt8]
            do throws(RPCError) { body = try call.messageBytes() } catch { return responder.finish(error) }
            pool.submit { state in
                guard state == .active else { return responder.finish(RPCError(.unavailable, "worker pool is shutting down")) }
                let chainCall = chain.begin(responder.context)
                do throws(RPCError) {
                    try chainCall.authorize(body: body, metadata: responder.context.metadata)
                    let response = try chainCall.callMethod(method, body: body, metadata: responder.context.metadata)
                    chainCall.end(finish: .unspecified, usage: .init(), status: .ok, deliveredBytes: response.count)
                    var trailers = chainCall.responseMetadata
                    trailers["rampart-request-id"] = responder.context.requestID
                    responder.finish(serialized: response, metadata: trailers)
                } catch {
                    chainCall.end(finish: .unspecified, usage: .init(), status: error.code, deliveredBytes: 0)
                    responder.finish(error)
                }
            }
        }
    }

    /// Method paths as plugins declare them: `package.Service/Method`, no leading slash.
    static func normalized(_ path: String) -> String {
        path.hasPrefix("/") ? String(path.dropFirst()) : path
    }
}
