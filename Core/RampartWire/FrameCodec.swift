import NIOCore

/// Splits a byte stream into frames. Pure: no I/O, no allocation beyond slicing.
///
/// The header is validated before any payload is awaited, so an oversized frame is
/// refused as soon as its 12 header bytes arrive and never buffered.
public struct FrameDecoder: Sendable {
    /// Largest accepted payload.
    public var maxFrameSize: UInt32

    public init(maxFrameSize: UInt32) {
        self.maxFrameSize = maxFrameSize
    }

    /// Decodes and checks a header if 12 bytes are readable, without consuming them.
    public func peekHeader(_ buffer: ByteBuffer) throws(WireError) -> FrameHeader? {
        guard buffer.readableBytes >= Wire.frameHeaderSize else { return nil }
        let base = buffer.readerIndex
        guard let length = buffer.getInteger(at: base, as: UInt32.self),
            let typeByte = buffer.getInteger(at: base + 4, as: UInt8.self),
            let flagByte = buffer.getInteger(at: base + 5, as: UInt8.self),
            let reserved = buffer.getInteger(at: base + 6, as: UInt16.self),
            let streamID = buffer.getInteger(at: base + 8, as: UInt32.self)
        else { return nil }
        guard let type = FrameType(rawValue: typeByte) else { throw .unknownFrameType(typeByte) }
        if length > maxFrameSize { throw .frameTooLarge(streamID: streamID, length: length, limit: maxFrameSize) }
        if reserved != 0 { throw .reservedBitsSet("header reserved field is 0x\(String(reserved, radix: 16))") }
        let flags = FrameFlags(rawValue: flagByte)
        if !flags.isSubset(of: .known) { throw .reservedBitsSet("undefined flags 0x\(String(flagByte, radix: 16))") }
        if type.isConnectionLevel != (streamID == 0) { throw .badStreamID(type, streamID) }
        return FrameHeader(length: length, type: type, flags: flags, streamID: streamID)
    }

    /// Consumes the next complete frame, or returns nil when more bytes are needed.
    public func next(from buffer: inout ByteBuffer) throws(WireError) -> Frame? {
        guard let header = try peekHeader(buffer) else { return nil }
        let total = Wire.frameHeaderSize + Int(header.length)
        guard buffer.readableBytes >= total else { return nil }
        buffer.moveReaderIndex(forwardBy: Wire.frameHeaderSize)
        guard let payload = buffer.readSlice(length: Int(header.length)) else { return nil }
        return Frame(header: header, payload: payload)
    }
}

/// Appends frames to a buffer.
public enum FrameEncoder {
    /// Writes a frame header (in one write: five `writeInteger`s cost five capacity and
    /// uniqueness checks).
    @inlinable
    public static func writeHeader(
        _ type: FrameType, flags: FrameFlags, streamID: UInt32, length: Int, to buffer: inout ByteBuffer
    ) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Wire.frameHeaderSize) { out in
            guard let base = out.baseAddress else { return 0 }
            storeHeader(type, flags: flags, streamID: streamID, length: length, at: base)
            return Wire.frameHeaderSize
        }
    }

    /// Stores a frame header's 12 bytes at `out`.
    @inlinable
    static func storeHeader(_ type: FrameType, flags: FrameFlags, streamID: UInt32, length: Int, at out: UnsafeMutableRawPointer) {
        out.storeBytes(of: UInt32(truncatingIfNeeded: length).bigEndian, as: UInt32.self)
        out.storeBytes(of: type.rawValue, toByteOffset: 4, as: UInt8.self)
        out.storeBytes(of: flags.rawValue, toByteOffset: 5, as: UInt8.self)
        out.storeBytes(of: UInt16(0), toByteOffset: 6, as: UInt16.self)
        out.storeBytes(of: streamID.bigEndian, toByteOffset: 8, as: UInt32.self)
    }

    /// Writes a frame with raw payload bytes.
    @inlinable
    public static func write(
        _ type: FrameType, flags: FrameFlags = [], streamID: UInt32, payload: some Collection<UInt8>,
        to buffer: inout ByteBuffer
    ) {
        writeHeader(type, flags: flags, streamID: streamID, length: payload.count, to: &buffer)
        buffer.writeBytes(payload)
    }

    /// Writes a frame whose payload is produced in place by `body`; the length is patched afterwards.
    @inlinable
    public static func write(
        _ type: FrameType, flags: FrameFlags = [], streamID: UInt32, to buffer: inout ByteBuffer,
        payload body: (inout ByteBuffer) throws -> Void
    ) rethrows {
        let start = buffer.writerIndex
        writeHeader(type, flags: flags, streamID: streamID, length: 0, to: &buffer)
        try body(&buffer)
        buffer.setInteger(UInt32(buffer.writerIndex - start - Wire.frameHeaderSize), at: start)
    }
}
