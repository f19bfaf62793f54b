import NIOCore
import RampartCore
import RampartProto
import SwiftProtobuf

extension ByteBuffer: @retroactive SwiftProtobufContiguousBytes {
    public init(repeating: UInt8, count: Int) {
        self = ByteBufferAllocator().buffer(repeating: repeating, count: count)
    }

    public init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
        self = ByteBufferAllocator().buffer(bytes: sequence)
    }

    public var count: Int { readableBytes }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeReadableBytes(body)
    }

    public mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeMutableReadableBytes(body)
    }
}

/// How MESSAGE payloads are compressed on one connection.
public struct CompressionPolicy: Sendable, Hashable {
    /// LZ4 negotiated by both prefaces.
    public var enabled: Bool
    /// Compress payloads of at least this many bytes.
    public var threshold: Int

    public init(enabled: Bool, threshold: Int) {
        self.enabled = enabled
        self.threshold = threshold
    }

    public static let disabled = CompressionPolicy(enabled: false, threshold: .max)
}

/// A message's serialized bytes inside the buffer that carries its frame: swift-protobuf
/// encodes into the readable part, with room for the frame header before it and for a few
/// small frames (trailers) after it, so that the frame needs no second buffer and no copy.
struct InPlaceFrameBytes: SwiftProtobufContiguousBytes {
    /// Free bytes kept after the message (OK trailers with a request id take ≈ 60).
    static let tailroom = 128

    /// Readable bytes: the message; the `Wire.frameHeaderSize` bytes before them are the header's.
    var buffer: ByteBuffer

    init(repeating: UInt8, count: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: Wire.frameHeaderSize + count + Self.tailroom)
        buffer.moveWriterIndex(forwardBy: Wire.frameHeaderSize)
        buffer.moveReaderIndex(forwardBy: Wire.frameHeaderSize)
        buffer.writeRepeatingByte(repeating, count: count)
    }

    init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
        self.init(repeating: 0, count: 0)
        buffer.writeBytes(Array(sequence))
    }

    var count: Int { buffer.readableBytes }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes(body)
    }

    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutableReadableBytes(body)
    }
}

extension FrameEncoder {
    /// Encodes `message` as one frame in a new buffer, serialized in place (no intermediate
    /// copy) with room left for trailers, or LZ4-compressed when the policy says so.
    public static func frame(
        _ message: some SwiftProtobuf.Message, type: FrameType = .message, flags: FrameFlags = [],
        streamID: UInt32, compression: CompressionPolicy = .disabled
    ) throws -> ByteBuffer {
        var bytes: InPlaceFrameBytes = try message.serializedBytes()
        if type == .message, compression.enabled, bytes.count >= compression.threshold {
            var out = ByteBufferAllocator().buffer(capacity: Wire.frameHeaderSize + bytes.count + InPlaceFrameBytes.tailroom)
            writeSerialized(bytes.buffer, type: type, flags: flags, streamID: streamID, compression: compression, to: &out)
            return out
        }
        let length = bytes.count
        bytes.buffer.moveReaderIndex(to: 0)  // back over the header's room
        bytes.buffer.withUnsafeMutableReadableBytes { out in
            if let base = out.baseAddress { storeHeader(type, flags: flags, streamID: streamID, length: length, at: base) }
        }
        return bytes.buffer
    }

    /// Writes a protobuf message as a frame, LZ4-compressing it when the policy says so.
    public static func writeMessage(
        _ message: some SwiftProtobuf.Message, type: FrameType = .message, flags: FrameFlags = [],
        streamID: UInt32, compression: CompressionPolicy = .disabled, to buffer: inout ByteBuffer
    ) throws {
        let bytes: ByteBuffer = try message.serializedBytes()
        writeSerialized(bytes, type: type, flags: flags, streamID: streamID, compression: compression, to: &buffer)
    }

    /// Writes an already serialized message as a frame, LZ4-compressing it when the policy says so.
    public static func writeSerialized(
        _ bytes: ByteBuffer, type: FrameType = .message, flags: FrameFlags = [],
        streamID: UInt32, compression: CompressionPolicy = .disabled, to buffer: inout ByteBuffer
    ) {
        if type == .message, compression.enabled, bytes.readableBytes >= compression.threshold {
            let start = buffer.writerIndex
            writeHeader(type, flags: flags.union(.compressed), streamID: streamID, length: 0, to: &buffer)
            let compressed = bytes.withUnsafeReadableBytes { LZ4Codec.compress($0, into: &buffer) }
            if compressed {
                buffer.setInteger(UInt32(buffer.writerIndex - start - Wire.frameHeaderSize), at: start)
                return
            }
            buffer.moveWriterIndex(to: start)
        }
        writeHeader(type, flags: flags, streamID: streamID, length: bytes.readableBytes, to: &buffer)
        buffer.writeImmutableBuffer(bytes)
    }
}

extension Frame {
    /// The MESSAGE payload with any LZ4 compression undone.
    public func messagePayload(lz4Allowed: Bool, limit: Int) throws(WireError) -> ByteBuffer {
        guard header.flags.contains(.compressed) else { return payload }
        guard lz4Allowed else { throw .badCompression("COMPRESSED flag on a connection without LZ4") }
        return try LZ4Codec.decompress(payload, limit: limit)
    }

    /// Decodes the (decompressed) payload as `M`; malformed bytes and invalid UTF-8 become INVALID_ARGUMENT.
    public func decode<M: SwiftProtobuf.Message>(_: M.Type, lz4Allowed: Bool, limit: Int) throws(RPCError) -> M {
        let bytes: ByteBuffer
        do {
            bytes = try messagePayload(lz4Allowed: lz4Allowed, limit: limit)
        } catch {
            throw RPCError(.invalidArgument, error.description)
        }
        return try Self.decodeProtobuf(M.self, bytes)
    }

    static func decodeProtobuf<M: SwiftProtobuf.Message>(_: M.Type, _ bytes: ByteBuffer) throws(RPCError) -> M {
        do {
            return try M(serializedBytes: bytes)
        } catch {
            throw decodingError(error, M.protoMessageName)
        }
    }

    /// A decoding failure of a `name` message as INVALID_ARGUMENT.
    static func decodingError(_ error: any Error, _ name: String) -> RPCError {
        if case BinaryDecodingError.invalidUTF8? = error as? BinaryDecodingError {
            return RPCError(.invalidArgument, "invalid UTF-8 in a string field of \(name)")
        }
        return RPCError(.invalidArgument, "malformed \(name): \(error)")
    }
}

extension Rampart_V1_Trailers {
    /// Trailers for a status.
    public init(_ code: StatusCode, _ message: String = "", metadata: [String: String] = [:]) {
        self.init()
        self.code = code.rawValue
        self.message = message
        self.metadata = metadata.sorted { $0.key < $1.key }.map { Rampart_V1_MetadataEntry(key: $0.key, text: $0.value) }
    }

    /// The status code, with out-of-range values mapped to UNKNOWN.
    public var status: StatusCode { StatusCode(wireValue: code) }

    /// Text metadata as a dictionary (last value wins).
    public var textMetadata: [String: String] {
        var out: [String: String] = [:]
        for entry in metadata { if case .text(let value)? = entry.value { out[entry.key] = value } }
        return out
    }
}

