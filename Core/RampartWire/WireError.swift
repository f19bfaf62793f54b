import RampartCore

/// A protocol violation found while decoding bytes from the peer.
public enum WireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The preface did not start with `RAMPART\n`.
    case badMagic
    /// The client's version range does not include a version this build speaks.
    case unsupportedVersion(min: UInt16, max: UInt16)
    /// A frame longer than the receiver's limit; `streamID` is where it was headed.
    case frameTooLarge(streamID: UInt32, length: UInt32, limit: UInt32)
    /// A type byte outside the defined frame types.
    case unknownFrameType(UInt8)
    /// Reserved header bits or undefined flags were set.
    case reservedBitsSet(String)
    /// A stream id of 0 where a stream is needed, or the reverse.
    case badStreamID(FrameType, UInt32)
    /// A compressed payload that is malformed.
    case badCompression(String)
    /// Any other violation of the frame sequence.
    case protocolViolation(String)

    /// The status code the receiver answers this error with.
    public var code: StatusCode {
        switch self {
        case .badMagic, .unknownFrameType, .reservedBitsSet, .badStreamID, .badCompression, .protocolViolation:
            .invalidArgument
        case .unsupportedVersion: .unimplemented
        case .frameTooLarge: .resourceExhausted
        }
    }

    public var description: String {
        switch self {
        case .badMagic: "bad preface: expected magic \"RAMPART\\n\""
        case .unsupportedVersion(let min, let max):
            "unsupported protocol version range \(min)...\(max); this server speaks \(Wire.version)"
        case .frameTooLarge(let stream, let length, let limit):
            "frame of \(length) bytes on stream \(stream) exceeds max_frame_size \(limit)"
        case .unknownFrameType(let type): "unknown frame type 0x\(String(type, radix: 16))"
        case .reservedBitsSet(let what): "reserved bits set: \(what)"
        case .badStreamID(let type, let id):
            type.isConnectionLevel ? "\(type) must use stream 0, got \(id)" : "\(type) needs a non-zero stream id"
        case .badCompression(let why): "bad LZ4 payload: \(why)"
        case .protocolViolation(let why): why
        }
    }
}
