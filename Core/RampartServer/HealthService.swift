import NIOCore
import RampartCore
import RampartProto

/// `rampart.v1.Health`: serving status, versions, model and load.
final class HealthService: Sendable {
    static let check = "/rampart.v1.Health/Check"

    let model: ModelDescriptor
    let metrics: ServerMetrics
    let started = NIODeadline.now()
    let isDraining: @Sendable () -> Bool

    init(model: ModelDescriptor, metrics: ServerMetrics, isDraining: @escaping @Sendable () -> Bool) {
        self.model = model
        self.metrics = metrics
        self.isDraining = isDraining
    }

    func register(in dispatcher: inout Dispatcher) {
        dispatcher.register(Self.check) { [self] call in
            let request: Rampart_V1_HealthCheckRequest
            do throws(RPCError) {
                request = try call.decode(Rampart_V1_HealthCheckRequest.self)
            } catch {
                return call.responder.finish(error)
            }
            let known = ["", "rampart.v1.Inference", "rampart.v1.Health"]
            guard known.contains(request.service) else {
                return call.responder.finish(RPCError(.notFound, "unknown service \"\(request.service.prefix(200))\""))
            }
            var response = Rampart_V1_HealthCheckResponse()
            response.status = isDraining() ? .draining : .serving
            response.serverVersion = RampartVersion.string
            response.protocolVersion = UInt32(1)
            response.model.name = model.name
            response.model.version = model.version
            response.model.backend = model.backend
            response.model.contextLength = UInt32(clamping: model.contextLength)
            response.model.vocabularySize = UInt32(clamping: model.vocabularySize)
            response.uptimeMs = UInt64((NIODeadline.now() - started).nanoseconds / 1_000_000)
            response.activeStreams = UInt32(clamping: metrics.streams)
            call.responder.finish(with: response)
        }
    }
}

/// The Rampart release version.
public enum RampartVersion {
    public static let string = "0.1.0"
}
