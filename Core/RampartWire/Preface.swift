import NIOCore

/// The 16-byte client preface: magic, supported version range, flags.
public struct ClientPreface: Sendable, Hashable {
    public var minVersion: UInt16
    public var maxVersion: UInt16
    public var flags: UInt32

    public init(minVersion: UInt16 = Wire.version, maxVersion: UInt16 = Wire.version, acceptsLZ4: Bool) {
        self.minVersion = minVersion
        self.maxVersion = maxVersion
        self.flags = acceptsLZ4 ? Wire.prefaceFlagLZ4 : 0
    }

    public var acceptsLZ4: Bool { flags & Wire.prefaceFlagLZ4 != 0 }

    /// Appends the encoded preface.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeBytes(Wire.magic)
        buffer.writeInteger(minVersion)
        buffer.writeInteger(maxVersion)
        buffer.writeInteger(flags)
    }

    /// Reads a preface when 16 bytes are available; nil when more bytes are needed.
    /// The magic is checked as soon as its bytes arrive, so garbage is refused early.
    public static func read(from buffer: inout ByteBuffer) throws(WireError) -> ClientPreface? {
        let available = min(buffer.readableBytes, Wire.magic.count)
        if let prefix = buffer.getBytes(at: buffer.readerIndex, length: available),
            prefix != Array(Wire.magic.prefix(available))
        {
            throw .badMagic
        }
        guard buffer.readableBytes >= Wire.clientPrefaceSize else { return nil }
        buffer.moveReaderIndex(forwardBy: Wire.magic.count)
        guard let minV = buffer.readInteger(as: UInt16.self), let maxV = buffer.readInteger(as: UInt16.self),
            let flags = buffer.readInteger(as: UInt32.self)
        else { return nil }
        var preface = ClientPreface(minVersion: minV, maxVersion: maxV, acceptsLZ4: false)
        preface.flags = flags
        return preface
    }

    /// The version both sides speak, if any.
    public func negotiatedVersion() -> UInt16? {
        minVersion <= Wire.version && Wire.version <= maxVersion ? Wire.version : nil
    }
}

/// The 24-byte server preface: chosen version (0 = refused), flags and limits.
public struct ServerPreface: Sendable, Hashable {
    public var version: UInt16
    public var flags: UInt32
    public var maxFrameSize: UInt32
    public var maxConcurrentStreams: UInt32

    public init(version: UInt16, lz4: Bool, maxFrameSize: UInt32, maxConcurrentStreams: UInt32) {
        self.version = version
        self.flags = lz4 ? Wire.prefaceFlagLZ4 : 0
        self.maxFrameSize = maxFrameSize
        self.maxConcurrentStreams = maxConcurrentStreams
    }

    /// A refusal preface (version 0), always followed by a GOAWAY.
    public static let refused = ServerPreface(version: 0, lz4: false, maxFrameSize: 0, maxConcurrentStreams: 0)

    public var lz4Enabled: Bool { flags & Wire.prefaceFlagLZ4 != 0 }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeBytes(Wire.magic)
        buffer.writeInteger(version)
        buffer.writeInteger(UInt16(0))
        buffer.writeInteger(flags)
        buffer.writeInteger(maxFrameSize)
        buffer.writeInteger(maxConcurrentStreams)
    }

    /// Reads a server preface when 24 bytes are available; nil when more are needed.
    public static func read(from buffer: inout ByteBuffer) throws(WireError) -> ServerPreface? {
        guard buffer.readableBytes >= Wire.serverPrefaceSize else { return nil }
        guard buffer.readBytes(length: Wire.magic.count) == Wire.magic else { throw .badMagic }
        guard let version = buffer.readInteger(as: UInt16.self), let _ = buffer.readInteger(as: UInt16.self),
            let flags = buffer.readInteger(as: UInt32.self), let maxFrame = buffer.readInteger(as: UInt32.self),
            let maxStreams = buffer.readInteger(as: UInt32.self)
        else { return nil }
        var preface = ServerPreface(version: version, lz4: false, maxFrameSize: maxFrame, maxConcurrentStreams: maxStreams)
        preface.flags = flags
        return preface
    }
}
