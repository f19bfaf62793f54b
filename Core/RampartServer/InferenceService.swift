import NIOCore
import NIOPosix
import RampartChain
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
    let chains: ChainHolder
    /// The backend's model, read once (a backend serves one model for its lifetime).
    private let model: ModelDescriptor
    private let validator: RequestValidator

    public init(backend: any InferenceBackend, limits: RequestLimits, pool: NIOThreadPool, chains: ChainHolder = ChainHolder()) {
        self.backend = backend
        self.limits = limits
        self.pool = pool
        self.chains = chains
        self.model = backend.model
        self.validator = RequestValidator(limits: limits, vocabularySize: backend.model.vocabularySize)
    }

    /// Registers both methods.
    public func register(in dispatcher: inout Dispatcher) {
        dispatcher.register(Self.generate) { [self] call in start(call, streaming: false) }
        dispatcher.register(Self.generateStream) { [self] call in start(call, streaming: true) }
    }

    private func start(_ call: ServerCall, streaming: Bool) {
        let message: Rampart_V1_GenerateRequest
        let request: GenerationRequest
        do throws(RPCError) {
            message = try Rampart_V1_GenerateRequest(viaTextView: call.payload())
            request = try validator.validate(message)
        } catch {
            call.responder.finish(error)
            return
        }
        let responder = call.responder
        let chain = chains.current
        // Without plugins, a cheap backend answers on the event loop; anything that may block
        // (plugins are native code) runs on the worker pool.
        if chain.isEmpty, backend.execution == .inline {
            run(message, request, chain: chain, responder: responder, streaming: streaming)
            return
        }
        pool.submit { [self] state in
            guard state == .active else {
                responder.finish(RPCError(.unavailable, "worker pool is shutting down"))
                return
            }
            run(message, request, chain: chain, responder: responder, streaming: streaming)
        }
    }

    /// What one call accumulates while the backend generates. One value captured by the token
    /// closure (which is not escaping, so it is captured in place): local functions capturing
    /// separate variables made the compiler box each of them, an allocation apiece per call.
    private struct Progress {
        let requestID: String
        var text = ""
        var logprobs: [Rampart_V1_TokenLogprob] = []
        var first = true
        var delivered = 0
        var stopError: RPCError?
        var window: HoldBackWindow

        /// The next streamed chunk carrying `piece` and the logprobs gathered so far; the first
        /// chunk also names the request and the model.
        mutating func chunk(_ piece: String, model: ModelDescriptor) -> Rampart_V1_GenerateChunk {
            var chunk = Rampart_V1_GenerateChunk()
            chunk.text = piece
            chunk.logprobs = logprobs
            logprobs.removeAll()
            if first {
                chunk.requestID = requestID
                chunk.model = model.name
                chunk.modelVersion = model.version
                first = false
            }
            delivered += piece.utf8.count
            return chunk
        }
    }

    private func run(_ message: Rampart_V1_GenerateRequest, _ validated: GenerationRequest, chain: PluginChain,
                     responder: StreamResponder, streaming: Bool) {
        var trailers: [String: String] = [:]  // the responder adds the request id
        var request = validated
        let chainCall = chain.isEmpty ? nil : chain.begin(responder.context)
        let filterOutput = chainCall != nil && chain.inspectsOutput
        var progress = Progress(
            requestID: responder.context.requestID,
            window: HoldBackWindow(limit: filterOutput ? chain.holdBackBytes : 0))
        func fail(_ error: RPCError, finish: Rampart_V1_FinishReason = .unspecified) {
            chainCall?.end(finish: finish, usage: Rampart_V1_Usage(), status: error.code, deliveredBytes: progress.delivered)
            responder.finish(error)
        }

        if let chainCall {
            var mutated = message
            var metadata = responder.context.metadata
            if chain.wantsPromptTokens {
                chainCall.promptTokens = UInt32(clamping: backend.countPromptTokens(request.input))
            }
            do throws(RPCError) {
                try chainCall.onRequest(&mutated, metadata: &metadata)
            } catch {
                return fail(error)
            }
            if mutated != message {
                do throws(RPCError) {
                    request = try validator.validate(mutated)
                } catch {
                    return fail(RPCError(.internal, "a plugin turned the request into an invalid one: \(error.message)"))
                }
            }
            request.logitsHook = chainCall.logitsHook()
        }

        let wantLogprobs = request.sampling.logprobs
        let result: GenerationResult
        do {
            result = try backend.generate(request) { token in
                if responder.isCancelled { return false }
                if let failure = chainCall?.pendingFailure {
                    progress.stopError = failure
                    return false
                }
                var piece = token.text
                if filterOutput, let chainCall {
                    do throws(RPCError) {
                        piece = try chainCall.filterChunk(piece)
                    } catch {
                        progress.stopError = error
                        progress.window.discard()
                        return false
                    }
                }
                if wantLogprobs { progress.logprobs.append(Self.logprob(token)) }
                if streaming {
                    let release = filterOutput ? progress.window.push(piece) : piece
                    if !release.isEmpty || !filterOutput { responder.send(progress.chunk(release, model: model)) }
                } else if progress.text.isEmpty {
                    progress.text = piece
                } else {
                    progress.text += piece
                }
                return !responder.isCancelled
            }
        } catch let error as RPCError {
            return fail(error)
        } catch let error as any StatusCodeConvertible {
            return fail(RPCError(error.statusCode, "\(error)"))
        } catch {
            return fail(RPCError(.internal, "backend \(model.backend) failed: \(error)"))
        }
        if let stopError = progress.stopError { return fail(stopError, finish: .contentFilter) }
        guard !responder.isCancelled else {
            chainCall?.end(finish: .unspecified, usage: Rampart_V1_Usage(), status: .cancelled, deliveredBytes: progress.delivered)
            return
        }
        var usage = Rampart_V1_Usage()
        usage.promptTokens = UInt32(clamping: result.promptTokens)
        usage.completionTokens = UInt32(clamping: result.completionTokens)
        let finish = Self.finishReason(result.finish)
        // End of output: chunk hooks get one empty chunk so that a plugin holding back its own
        // tail (the sanitizer keeps a partial email or key until it is complete) releases it.
        if filterOutput, let chainCall {
            do throws(RPCError) {
                let tail = try chainCall.filterChunk("")
                if !tail.isEmpty {
                    if streaming {
                        let release = progress.window.push(tail)
                        if !release.isEmpty { responder.send(progress.chunk(release, model: model)) }
                    } else {
                        progress.text += tail
                    }
                }
            } catch {
                progress.window.discard()
                return fail(error, finish: .contentFilter)
            }
        }
        if streaming {
            let rest = progress.window.flush()
            if !rest.isEmpty { responder.send(progress.chunk(rest, model: model)) }
            var last = Rampart_V1_GenerateChunk()
            last.finishReason = finish
            last.usage = usage
            last.logprobs = progress.logprobs
            if progress.first {
                last.requestID = progress.requestID
                last.model = model.name
                last.modelVersion = model.version
            }
            chainCall?.end(finish: finish, usage: usage, status: .ok, deliveredBytes: progress.delivered)
            if let extra = chainCall?.responseMetadata { trailers.merge(extra) { current, _ in current } }
            responder.send(last)
            responder.finish(metadata: trailers)
        } else {
            var response = Rampart_V1_GenerateResponse()
            response.text = progress.text
            response.usage = usage
            response.finishReason = finish
            response.model = model.name
            response.modelVersion = model.version
            response.requestID = progress.requestID
            response.logprobs = progress.logprobs
            if let chainCall {
                do throws(RPCError) {
                    try chainCall.onResponse(&response, trailers: &trailers)
                } catch {
                    return fail(error, finish: .contentFilter)
                }
                progress.delivered = response.text.utf8.count
                chainCall.end(finish: finish, usage: usage, status: .ok, deliveredBytes: progress.delivered)
                trailers.merge(chainCall.responseMetadata) { current, _ in current }
            }
            responder.finish(with: response, metadata: trailers)
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
