import ArgumentParser
import NIOCore
import NIOPosix

/// A bare SwiftNIO echo server speaking the raw floor's framing (u32 length + payload): the cost
/// of NIO itself, with no Rampart protocol, for `bench rpc`'s "SwiftNIO echo" row.
struct NIOEchoServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nio-echo-server", abstract: "Bare SwiftNIO echo (benchmark baseline).", shouldDisplay: false)

    @Option(name: .long) var socket: String

    func run() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
            .bind(unixDomainSocketPath: socket, cleanupExistingSocketFile: true).wait()
        try channel.closeFuture.wait()
    }

    final class EchoHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private var buffer: ByteBuffer?

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            if buffer == nil { buffer = incoming } else { buffer?.writeBuffer(&incoming) }
            guard var input = buffer else { return }
            var wrote = false
            while let length = input.getInteger(at: input.readerIndex, as: UInt32.self),
                  input.readableBytes >= 4 + Int(length),
                  let frame = input.readSlice(length: 4 + Int(length)) {
                context.write(wrapOutboundOut(frame), promise: nil)
                wrote = true
            }
            buffer = input.readableBytes > 0 ? input : nil
            if wrote { context.flush() }
        }
    }
}
