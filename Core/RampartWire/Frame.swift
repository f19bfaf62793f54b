import NIOCore

/// Protocol constants of wire version 1 (docs/PROTOCOL.md).
public enum Wire {
    /// `RAMPART\n`.
    public static let magic: [UInt8] = Array("RAMPART\n".utf8)
    /// The protocol version this build speaks.
    public static let version: UInt16 = 1
    /// Size of the fixed frame header.
    public static let frameHeaderSize = 12
    /// Size of the client preface.
    public static let clientPrefaceSize = 16
    /// Size of the server preface.
    public static let serverPrefaceSize = 24
    /// Preface flag: LZ4 accepted / enabled.
    public static let prefaceFlagLZ4: UInt32 = 0x1
}

/// The type byte of a frame.
public enum FrameType: UInt8, Sendable, Hashable, CustomStringConvertible {
    case headers = 0x01
    case message = 0x02
    case trailers = 0x03
    case cancel = 0x04
    case ping = 0x05
    case goAway = 0x06

    public var description: String {
        switch self {
        case .headers: "HEADERS"
        case .message: "MESSAGE"
        case .trailers: "TRAILERS"
        case .cancel: "CANCEL"
        case .ping: "PING"
        case .goAway: "GOAWAY"
        }
    }

    /// Whether frames of this type travel on stream 0 (connection-level).
    public var isConnectionLevel: Bool { self == .ping || self == .goAway }
}

/// The flags byte of a frame.
public struct FrameFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Last frame from this side on the stream.
    public static let endStream = FrameFlags(rawValue: 0x01)
    /// MESSAGE payload is LZ4-compressed.
    public static let compressed = FrameFlags(rawValue: 0x02)
    /// PING reply.
    public static let ack = FrameFlags(rawValue: 0x04)
    /// Every defined flag.
    public static let known: FrameFlags = [.endStream, .compressed, .ack]
}

/// A decoded frame header.
public struct FrameHeader: Sendable, Hashable {
    public var length: UInt32
    public var type: FrameType
    public var flags: FrameFlags
    public var streamID: UInt32

    public init(length: UInt32, type: FrameType, flags: FrameFlags, streamID: UInt32) {
        self.length = length
        self.type = type
        self.flags = flags
        self.streamID = streamID
    }
}

/// A complete frame: header plus payload (a slice of the receive buffer).
public struct Frame: Sendable {
    public var header: FrameHeader
    public var payload: ByteBuffer

    public init(header: FrameHeader, payload: ByteBuffer) {
        self.header = header
        self.payload = payload
    }
}
