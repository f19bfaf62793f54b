/// Writes ASCII text and decimal numbers into a fixed buffer: the limit header is formatted on
/// every admitted request, where `String(Int)`, string appends and a growing byte array each
/// cost more than the limit check itself.
struct ASCIIWriter {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    /// Bytes written so far.
    private(set) var count = 0
    /// Whether something did not fit (then the rest was dropped).
    private(set) var overflowed = false

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    var isEmpty: Bool { count == 0 }

    mutating func append(_ text: StaticString) {
        let bytes = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        guard bytes.count <= buffer.count - count else { return overflowed = true }
        for byte in bytes {
            buffer[count] = byte
            count += 1
        }
    }

    /// `value` in decimal, with a `-` when negative.
    mutating func append(_ value: Int64) {
        var magnitude = value.magnitude
        var digits = 1
        var scan = magnitude
        while scan >= 10 {
            scan /= 10
            digits += 1
        }
        let length = digits + (value < 0 ? 1 : 0)
        guard length <= buffer.count - count else { return overflowed = true }
        if value < 0 { buffer[count] = UInt8(ascii: "-") }
        var index = count + length - 1
        repeat {
            buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
            index -= 1
        } while magnitude > 0
        count += length
    }
}
