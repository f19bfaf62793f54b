import Foundation
import RampartChain
import RampartProto
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#endif

/// The child side of process isolation (`rampart plugin-host`): loads one plugin with the same
/// ``PluginLoader`` and ``NativePlugin`` as the sidecar and serves the calls of
/// proto/rampart/v1/isolation.proto on a socket until EOF.
public enum PluginHostServer {
    public struct Options: Sendable {
        /// The socket (the parent passes its end of the socketpair as fd 3).
        public var fd: Int32
        public var directory: String
        public var library: String
        public var name: String
        public var cacheDirectory: String
        public var trust: PluginTrust

        public init(fd: Int32, directory: String, library: String, name: String, cacheDirectory: String, trust: PluginTrust) {
            self.fd = fd
            self.directory = directory
            self.library = library
            self.name = name
            self.cacheDirectory = cacheDirectory
            self.trust = trust
        }
    }

    /// Serves until the parent closes the socket. Returns the process exit status: 0 after EOF,
    /// 1 when the plugin could not be loaded or created (the parent got the error), 2 on a
    /// protocol error.
    public static func run(_ options: Options) -> Int32 {
        // A crash in the plugin must end this process with its signal, at once. The Swift
        // runtime installs a crash handler (the backtracer) that prints a report and returns;
        // for a signal the plugin raise()s, returning resumes the plugin as if nothing happened.
        for signal in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS] {
            _ = Glibc.signal(signal, SIG_DFL)
        }
        let channel = FrameChannel(fd: options.fd)
        let writer = ReplyWriter(channel: channel, plugin: options.name)

        // 1. The hello: the config travels here, never on the command line.
        let hello: Rampart_V1_IsolatedCall
        do throws(ChannelFailure) {
            hello = try channel.read(Rampart_V1_IsolatedCall.self, deadline: .max)
        } catch {
            return fail("no hello from the sidecar: \(error)")
        }
        guard case .hello(let body)? = hello.call else { return fail("the first message is not a hello") }

        // 2. Load (verifying again) and create.
        let plugin: NativePlugin
        let perCallState: Bool
        do throws(PluginError) {
            let loader = PluginLoader(cacheDirectory: options.cacheDirectory, trust: options.trust)
            let library = try loader.load(directory: options.directory, library: options.library, name: options.name)
            if !body.expectedDigest.isEmpty, library.digest != body.expectedDigest {
                throw .untrusted(plugin: options.name, reason:
                    "\(options.library) is not the file the sidecar verified (sha256 \(library.digest), expected \(body.expectedDigest))")
            }
            if library.info.capabilities.contains(.logits) {
                throw .cannotOpen(plugin: options.name, reason:
                    "the logits hook is not supported with isolation = \"process\" (it runs once per generated token, "
                    + "inside the sampler: a process round trip each time costs more than the sampling); run this plugin in-process")
            }
            if !library.info.methods.isEmpty {
                throw .cannotOpen(plugin: options.name, reason:
                    "plugin-served methods (\(library.info.methods.joined(separator: ", "))) are not supported with "
                    + "isolation = \"process\" yet; run this plugin in-process")
            }
            perCallState = library.descriptor.pointee.stream_new != nil
            plugin = try NativePlugin(library: library, name: options.name, config: [UInt8](body.config),
                                      signals: SignalStore()) { level, message in
                writer.log(level, message)
            }
            var ready = Rampart_V1_IsolatedReady()
            ready.name = library.info.name
            ready.version = library.info.version
            ready.abiMinor = UInt32(library.info.abiMinor)
            ready.capabilities = library.info.capabilities.rawValue
            ready.perCallState = perCallState
            ready.pid = getpid()
            ready.digest = library.digest
            var reply = Rampart_V1_IsolatedReply()
            reply.id = hello.id
            reply.result = .ready(ready)
            guard writer.send(reply) else { return fail("cannot answer the hello") }
        } catch {
            var reply = Rampart_V1_IsolatedReply()
            reply.id = hello.id
            reply.result = .error(error.wire)
            _ = writer.send(reply)
            return 1
        }

        // 3. Serve.
        var streams: [UInt64: UnsafeMutableRawPointer?] = [:]
        defer { for (_, handle) in streams { plugin.freeStream(handle) } }
        while true {
            let message: Rampart_V1_IsolatedCall
            do throws(ChannelFailure) {
                message = try channel.read(Rampart_V1_IsolatedCall.self, deadline: .max)
            } catch .closed {
                return 0
            } catch {
                return fail("\(error)")
            }
            switch message.call {
            case .hook(let call)?:
                var reply = Rampart_V1_IsolatedReply()
                reply.id = message.id
                do throws(PluginError) {
                    var handle: UnsafeMutableRawPointer?
                    if perCallState, call.stream != 0 {
                        if let open = streams[call.stream] {
                            handle = open
                        } else {
                            handle = try plugin.newStream()
                            streams[call.stream] = handle
                        }
                    }
                    reply.result = try serve(plugin, call, handle)
                } catch {
                    reply.result = .error(error.wire)
                }
                guard writer.send(reply) else { return 0 }  // the sidecar is gone
            case .closeStream(let close)?:
                if let handle = streams.removeValue(forKey: close.stream) { plugin.freeStream(handle) }
            case .hello?, nil:
                return fail("unexpected message \(message.id)")
            }
        }
    }

    private static func serve(_ plugin: NativePlugin, _ call: Rampart_V1_IsolatedHookCall,
                              _ handle: UnsafeMutableRawPointer?) throws(PluginError) -> Rampart_V1_IsolatedReply.OneOf_Result {
        let input = [UInt8](call.input)
        switch call.hook {
        case .request:
            return .verdict(try plugin.onRequest(input, stream: handle))
        case .response:
            return .verdict(try plugin.onResponse(input, stream: handle))
        case .chunk:
            var result = Rampart_V1_IsolatedChunkResult()
            switch try plugin.onChunk(String(decoding: input, as: UTF8.self), stream: handle) {
            case .pass: result.action = .pass
            case .stop: result.action = .stop
            case .replace(let text):
                result.action = .replace
                result.text = text
            }
            return .chunk(result)
        case .streamEnd:
            try plugin.onStreamEnd(input, stream: handle)
            return .done(Rampart_V1_IsolatedDone())
        case .unspecified, .UNRECOGNIZED:
            throw .hookFailed(plugin: plugin.name, hook: "unknown hook", status: -1, message: "unknown hook \(call.hook)")
        }
    }

    private static func fail(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("rampart plugin-host: \(message)\n".utf8))
        return 2
    }
}

/// Serializes the child's writes: replies from the serving thread, log lines from wherever the
/// plugin logs (the ABI says: inside a hook, so in practice the same thread).
private final class ReplyWriter: @unchecked Sendable {
    let channel: FrameChannel
    let plugin: String
    private let lock = NSLock()

    init(channel: FrameChannel, plugin: String) {
        self.channel = channel
        self.plugin = plugin
    }

    /// False when the sidecar is gone. A reply too large for a frame is answered with an error.
    func send(_ reply: Rampart_V1_IsolatedReply) -> Bool {
        var bytes: [UInt8]
        do throws(ChannelFailure) {
            bytes = try IsolationWire.frame(reply)
        } catch {
            guard reply.id != 0 else { return true }  // a log line: drop it
            var fallback = Rampart_V1_IsolatedReply()
            fallback.id = reply.id
            fallback.result = .error(PluginError.hookFailed(plugin: plugin, hook: "reply", status: -1,
                                                            message: "the answer does not fit a frame: \(error)").wire)
            guard let encoded = try? IsolationWire.frame(fallback) else { return false }
            bytes = encoded
        }
        return lock.withLock {
            do throws(ChannelFailure) {
                try channel.write(bytes, deadline: .max)
                return true
            } catch {
                return false
            }
        }
    }

    func log(_ level: PluginLogLevel, _ message: String) {
        var line = Rampart_V1_IsolatedLog()
        line.level = level.rawValue
        line.message = message
        var reply = Rampart_V1_IsolatedReply()
        reply.result = .log(line)
        _ = send(reply)
    }
}
