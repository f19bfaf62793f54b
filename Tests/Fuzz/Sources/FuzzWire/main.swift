import FuzzSupport
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import RampartCore
import RampartProto
import RampartServer
import RampartWire
import SwiftProtobuf

/// The wire protocol as the server meets it: the fuzz input is what a client writes on a
/// connection, fed to the real ``ServerPipeline`` (preface, frame header checks, flags, LZ4
/// bodies, protobuf decoding, dispatch, request validation, the null backend, responses) on an
/// `EmbeddedChannel`. Whatever the input, the server must not crash and everything it writes back
/// must be a well-formed server preface followed by well-formed frames.
///
/// First byte (mode):
/// - bit 0: prepend a valid client preface (so mutations spend their time on frames);
/// - bit 1: that preface accepts LZ4;
/// - bits 2–3: how the bytes arrive: at once, in 1-, 7- or 61-byte reads;
/// - bit 4: let the read and idle timers fire afterwards;
/// - bits 5–7 = 7: instead, the client-side decoders (server preface, frames, trailers fast
///   path, the response's text view, LZ4) on the remaining bytes.
enum Harness {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    static let pipeline: ServerPipeline = {
        var settings = ServerSettings(socketPath: "/unused")
        settings.maxFrameSize = 64 << 10
        settings.maxConcurrentStreams = 4
        settings.readTimeoutMillis = 100
        settings.idleTimeoutMillis = 1_000
        settings.lz4 = true
        settings.lz4Threshold = 32
        settings.limits.maxPromptBytes = 16 << 10
        return ServerPipeline(
            settings: settings, backend: NullBackend(), pool: pool,
            logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
    }()

    static func run(_ input: inout FuzzInput) {
        let mode = input.byte()
        if mode >> 5 == 7 {
            clientSide(input.rest())
            return
        }
        var stream = ByteBuffer()
        if mode & 1 != 0 { ClientPreface(acceptsLZ4: mode & 2 != 0).write(to: &stream) }
        stream.writeBytes(input.rest())
        let chunk = [Int.max, 1, 7, 61][Int(mode >> 2) & 3]

        let channel = EmbeddedChannel()
        do {
            try pipeline.addHandlers(to: channel)
            try channel.connect(to: SocketAddress(unixDomainSocketPath: "/unused")).wait()
        } catch {
            fatalError("cannot set up the server pipeline: \(error)")
        }
        var output = ByteBuffer()
        func drain() {
            while let out = try? channel.readOutbound(as: ByteBuffer.self) {
                var out = out
                output.writeBuffer(&out)
            }
        }
        while stream.readableBytes > 0, channel.isActive {
            guard let piece = stream.readSlice(length: min(chunk, stream.readableBytes)) else { break }
            do {
                try channel.writeInbound(piece)
            } catch {
                break  // the server closed the connection: every later byte is refused
            }
            channel.embeddedEventLoop.run()
            drain()
        }
        if mode & 0x10 != 0 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(2))
            drain()
        }
        _ = try? channel.finish()
        drain()
        checkServerOutput(output)
    }

    /// What the server wrote must be a server preface and whole, well-formed frames.
    static func checkServerOutput(_ output: ByteBuffer) {
        var output = output
        guard output.readableBytes > 0 else { return }
        let preface: ServerPreface?
        do { preface = try ServerPreface.read(from: &output) } catch { fatalError("server wrote a bad preface: \(error)") }
        guard let preface else { fatalError("server wrote a truncated preface (\(output.readableBytes) bytes)") }
        let decoder = FrameDecoder(maxFrameSize: .max)
        while output.readableBytes > 0 {
            let next: Frame?
            do { next = try decoder.next(from: &output) } catch { fatalError("server wrote a bad frame header: \(error)") }
            guard let frame = next else { fatalError("server wrote a truncated frame (\(output.readableBytes) bytes left)") }
            switch frame.header.type {
            case .trailers:
                do { _ = try Rampart_V1_Trailers(serializedBytes: frame.payload) } catch { fatalError("server wrote bad trailers: \(error)") }
            case .goAway:
                do { _ = try Rampart_V1_GoAway(serializedBytes: frame.payload) } catch { fatalError("server wrote a bad GOAWAY: \(error)") }
            case .message:
                do {
                    _ = try frame.messagePayload(lz4Allowed: preface.lz4Enabled, limit: 64 << 20)
                } catch {
                    fatalError("server wrote a MESSAGE the client cannot decompress: \(error)")
                }
            case .ping:
                invariant(frame.header.length == 8 && frame.header.flags.contains(.ack), "server PING is not an 8-byte ACK")
            case .headers, .cancel:
                fatalError("server wrote a \(frame.header.type) frame")
            }
        }
    }

    /// The decoders a client runs on the server's bytes, and the LZ4 codec both sides use.
    static func clientSide(_ bytes: [UInt8]) {
        var buffer = ByteBuffer(bytes: bytes)
        _ = try? ServerPreface.read(from: &buffer)
        let decoder = FrameDecoder(maxFrameSize: 1 << 20)
        while let frame = try? decoder.next(from: &buffer) {
            _ = try? frame.messagePayload(lz4Allowed: true, limit: 1 << 20)
            _ = try? frame.decode(Rampart_V1_GenerateResponse.self, lz4Allowed: true, limit: 1 << 20)
            // The client's text-view decoding (in place for one `text`) is the real message's.
            let direct = try? Rampart_V1_GenerateResponse(serializedBytes: frame.payload)
            let viaView = try? Rampart_V1_GenerateResponse(viaTextView: frame.payload)
            invariant(viaView == direct, "GenerateResponse via its text view differs from the real message")
            let peeked = TrailersFastPath.peekCode(frame.payload)
            if let full = try? Rampart_V1_Trailers(serializedBytes: frame.payload), let peeked {
                invariant(full.status == peeked, "trailers fast path says \(peeked), full decode says \(full.status)")
            }
        }
        // LZ4: decompressing arbitrary bytes is refused cleanly; compress → decompress is the identity.
        let whole = ByteBuffer(bytes: bytes)
        _ = try? LZ4Codec.decompress(whole, limit: 1 << 20)
        var compressed = ByteBuffer()
        let didCompress = bytes.withUnsafeBytes { LZ4Codec.compress($0, into: &compressed) }
        if didCompress {
            do {
                let back = try LZ4Codec.decompress(compressed, limit: bytes.count)
                invariant(Array(back.readableBytesView) == bytes, "LZ4 round trip changed the bytes")
            } catch {
                fatalError("LZ4 cannot decompress what it compressed: \(error)")
            }
        }
    }
}

fuzzMain { Harness.run(&$0) }
