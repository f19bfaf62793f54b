import CLZ4
import NIOCore

/// Per-message LZ4 block compression: `u32 uncompressed_length | LZ4 block` (docs/PROTOCOL.md §4).
public enum LZ4Codec {
    /// Appends the compressed form of `bytes`; returns false (and appends nothing) when
    /// compression would not make the payload smaller.
    public static func compress(_ bytes: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) -> Bool {
        guard let source = bytes.baseAddress, bytes.count > 0, bytes.count <= Int(LZ4_MAX_INPUT_SIZE) else { return false }
        let bound = Int(LZ4_compressBound(Int32(bytes.count)))
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(bytes.count))
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { out in
            guard let dest = out.baseAddress else { return 0 }
            let n = LZ4_compress_default(
                source.assumingMemoryBound(to: CChar.self), dest.assumingMemoryBound(to: CChar.self),
                Int32(bytes.count), Int32(out.count))
            return Int(max(n, 0))
        }
        if written == 0 || written + 4 >= bytes.count {
            buffer.moveWriterIndex(to: start)
            return false
        }
        return true
    }

    /// Decompresses a COMPRESSED payload, refusing sizes above `limit`.
    public static func decompress(_ payload: ByteBuffer, limit: Int) throws(WireError) -> ByteBuffer {
        var payload = payload
        guard let length = payload.readInteger(as: UInt32.self) else {
            throw .badCompression("payload shorter than its 4-byte length prefix")
        }
        guard Int(length) <= limit else {
            throw .badCompression("uncompressed length \(length) exceeds the limit \(limit)")
        }
        var out = ByteBufferAllocator().buffer(capacity: Int(length))
        let produced = payload.withUnsafeReadableBytes { input -> Int32 in
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: Int(length)) { dest in
                guard let d = dest.baseAddress else { return 0 }
                guard let s = input.baseAddress else { return length == 0 ? 0 : 0 }
                let n = LZ4_decompress_safe(
                    s.assumingMemoryBound(to: CChar.self), d.assumingMemoryBound(to: CChar.self),
                    Int32(input.count), Int32(length))
                return n > 0 ? Int(n) : 0
            }
            return Int32(out.readableBytes)
        }
        guard produced == Int32(length), length > 0 else {
            throw .badCompression("block does not decompress to the announced \(length) bytes")
        }
        return out
    }
}
