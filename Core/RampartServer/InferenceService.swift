import NIOCore
import NIOPosix
import RampartCore
import RampartProto
import RampartWire

/// `rampart.v1.Inference`: validates a `GenerateRequest`, runs the backend (inline or on the
/// worker pool) and answers unary or streamed.
public final class InferenceService: Sendable {
    /// Method paths.
    public static let generate = "/rampart.v1.Inference/Generate"
    public static let generateStream = "/rampart.v1.Inference/GenerateStream"

    public let backend: any InferenceBackend
    let limits: RequestLimits
    let pool: NIOThreadPool

    public init(backend: any InferenceBackend, limits: RequestLimits, pool: NIOThreadPool) {
        self.backend = backend
        self.limits = limits
        self.pool = pool
    }

    /// Registers both methods.
    public func register(in dispatcher: inout Dispatcher) {
        dispatcher.register(Self.generate) { [self] call in start(call, streaming: false) }
        dispatcher.register(Self.generateStream) { [self] call in start(call, streaming: true) }
    }

    private func start(_ call: ServerCall, streaming: Bool) {
        let request: GenerationRequest
        do throws(RPCError) {
            let message = try call.decode(Rampart_V1_GenerateRequest.self)
            request = try RequestValidator(limits: limits, vocabularySize: backend.model.vocabularySize).validate(message)
        } catch {
            call.responder.finish(error)
            return
        }
        let responder = call.responder
        switch backend.execution {
        case .inline:
            run(request, responder: responder, streaming: streaming)
        case .blocking:
            pool.submit { [self] state in
                guard state == .active else {
                    responder.finish(RPCError(.unavailable, "worker pool is shutting down"))
                    return
                }
                run(request, responder: responder, streaming: streaming)
            }
        }
    }

    private func run(_ request: GenerationRequest, responder: StreamResponder, streaming: Bool) {
        let model = backend.model
        let requestID = responder.context.requestID
        let wantLogprobs = request.sampling.logprobs
        var text = ""
        var logprobs: [Rampart_V1_TokenLogprob] = []
        var first = true
        let result: GenerationResult
        do {
            result = try backend.generate(request) { token in
                if responder.isCancelled { return false }
                if streaming {
                    var chunk = Rampart_V1_GenerateChunk()
                    chunk.text = token.text
                    if wantLogprobs { chunk.logprobs = [Self.logprob(token)] }
                    if first {
                        chunk.requestID = requestID
                        chunk.model = model.name
                        chunk.modelVersion = model.version
                        first = false
                    }
                    responder.send(chunk)
                } else if text.isEmpty {
                    text = token.text
                } else {
                    text += token.text
                    if wantLogprobs { logprobs.append(Self.logprob(token)) }
                }
                return !responder.isCancelled
            }
        } catch let error as RPCError {
            responder.finish(error)
            return
        } catch let error as any StatusCodeConvertible {
            responder.finish(RPCError(error.statusCode, "\(error)"))
            return
        } catch {
            responder.finish(RPCError(.internal, "backend \(model.backend) failed: \(error)"))
            return
        }
        guard !responder.isCancelled else { return }
        var usage = Rampart_V1_Usage()
        usage.promptTokens = UInt32(clamping: result.promptTokens)
        usage.completionTokens = UInt32(clamping: result.completionTokens)
        let metadata = ["rampart-request-id": requestID]
        if streaming {
            var last = Rampart_V1_GenerateChunk()
            last.finishReason = Self.finishReason(result.finish)
            last.usage = usage
            if first {
                last.requestID = requestID
                last.model = model.name
                last.modelVersion = model.version
            }
            responder.send(last)
            responder.finish(metadata: metadata)
        } else {
            var response = Rampart_V1_GenerateResponse()
            response.text = text
            response.usage = usage
            response.finishReason = Self.finishReason(result.finish)
            response.model = model.name
            response.modelVersion = model.version
            response.requestID = requestID
            response.logprobs = logprobs
            responder.finish(with: response, metadata: metadata)
        }
    }

    static func finishReason(_ finish: GenerationFinish) -> Rampart_V1_FinishReason {
        switch finish {
        case .stop: .stop
        case .length: .length
        case .cancelled: .contentFilter
        }
    }

    static func logprob(_ token: GeneratedToken) -> Rampart_V1_TokenLogprob {
        var out = Rampart_V1_TokenLogprob()
        out.token = token.text
        out.tokenID = token.id
        out.logprob = token.logprob ?? 0
        out.top = token.top.map { alt in
            var top = Rampart_V1_TopLogprob()
            top.token = alt.text
            top.tokenID = alt.id
            top.logprob = alt.logprob
            return top
        }
        return out
    }
}
