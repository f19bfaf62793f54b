import Foundation
import RampartChain
import RampartCore
import RampartProto
import RampartServer

/// `rampart.v1.Admin`: the sidecar's own administrative RPCs.
///
/// Fail closed: an admin method is served only when the chain has an authorizing plugin (one that
/// sees every method, such as Plugins/Auth, which demands an admin scope and a TOTP code). The
/// server's gate has already run that plugin's request hook when the handler is called.
struct AdminService: Sendable {
    static let reloadChain = "/rampart.v1.Admin/ReloadChain"

    let chains: ChainHolder
    let reloader: ChainReloader

    func register(in dispatcher: inout Dispatcher) {
        dispatcher.register(Self.reloadChain) { [chains, reloader] call in
            guard chains.current.gatesAllMethods else {
                return call.responder.finish(RPCError(
                    .permissionDenied,
                    "admin methods need an authorizing plugin in the chain (e.g. the auth plugin); none is loaded"))
            }
            do throws(RPCError) {
                _ = try call.decode(Rampart_V1_ReloadChainRequest.self)
            } catch {
                return call.responder.finish(error)
            }
            let responder = call.responder
            // Loading plugins reads files and runs their create(): off the event loop.
            DispatchQueue.global().async {
                switch reloader.reload(trigger: "Admin.ReloadChain") {
                case .success(let plugins):
                    var response = Rampart_V1_ReloadChainResponse()
                    response.plugins = plugins
                    responder.finish(with: response)
                case .failure(let error):
                    responder.finish(RPCError(.failedPrecondition, error.description))
                }
            }
        }
    }
}
