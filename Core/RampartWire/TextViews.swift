import Foundation
import NIOCore
import RampartCore
import RampartProto
import SwiftProtobuf

/// Decoding through text views (proto/rampart/v1/views.proto).
///
/// swift-protobuf validates a string field one Unicode scalar at a time, ≈ 1 ns per byte: on a
/// 1 KB prompt that was an eighth of the server's whole cost per call. A view reads a message's
/// large text fields as bytes; the standard library validates them a word at a time, and every
/// other field (kept as unknown bytes by the view) is decoded by the real message. The result,
/// and the refusal of invalid UTF-8, are those of decoding the real message.
enum TextViews {
    /// `M` decoded from the fields a view kept as unknown.
    static func rest<M: SwiftProtobuf.Message>(_: M.Type, of view: some SwiftProtobuf.Message) throws -> M {
        try M(serializedBytes: view.unknownFields.data)
    }

    /// Validated UTF-8, or `BinaryDecodingError.invalidUTF8` (as swift-protobuf reports it).
    static func text(_ bytes: Data) throws -> String {
        if bytes.isEmpty { return "" }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw BinaryDecodingError.invalidUTF8 }
        return text
    }
}

extension Rampart_V1_GenerateRequest {
    /// Decodes a request through `GenerateRequestTextView` (prompt and message contents validated
    /// by the standard library); malformed bytes and invalid UTF-8 are INVALID_ARGUMENT.
    public init(viaTextView bytes: ByteBuffer) throws(RPCError) {
        if let request = Self(promptInPlace: bytes) {
            self = request
            return
        }
        do {
            // A view keeps only the last occurrence of a text field; the real message validates
            // every one. With a text field given twice (unusual), decode the real message.
            if bytes.withUnsafeReadableBytes({ Self.repeatsTextField($0) }) {
                self = try Self(serializedBytes: bytes)
                return
            }
            let view = try Rampart_V1_GenerateRequestTextView(serializedBytes: bytes)
            self = try TextViews.rest(Self.self, of: view)
            prompt = try TextViews.text(view.prompt)
            if !view.messages.isEmpty {
                var messages: [Rampart_V1_ChatMessage] = []
                messages.reserveCapacity(view.messages.count)
                for part in view.messages {
                    var message = try TextViews.rest(Rampart_V1_ChatMessage.self, of: part)
                    message.content = try TextViews.text(part.content)
                    messages.append(message)
                }
                self.messages = messages
            }
        } catch {
            throw Frame.decodingError(error, Self.protoMessageName)
        }
    }
}

extension Rampart_V1_GenerateRequest {
    /// The common shape, a raw prompt and no chat messages, decoded without the view: the
    /// prompt is validated where it lies in the frame (swift-protobuf would first copy a `bytes`
    /// field into a new `Data`), and the real message merges the fields before and after it
    /// (parsing concatenated encodings is merging them, so this is decoding the whole).
    ///
    /// Nil for anything else (chat messages, a second prompt, groups, a malformed or truncated
    /// field, invalid UTF-8): the view path then decides, errors included.
    init?(promptInPlace buffer: ByteBuffer) {
        guard let decoded = TextViews.decodeInPlace(Self.self, buffer, text: 2, refusing: 1, { $0.prompt = $1 }) else { return nil }
        self = decoded
    }
}

extension TextViews {
    /// `M` decoded from `buffer` with its one length-delimited text field `text` validated where
    /// it lies, and the fields around it merged by the real message (parsing concatenated
    /// encodings is merging them, so this is decoding the whole). Nil when field `refusing` is
    /// present, when `text` occurs twice or not length-delimited, on a tag, length or group that
    /// ``WireFields`` cannot walk, on anything the real message refuses and on invalid UTF-8:
    /// the caller's general path then decides, errors included.
    static func decodeInPlace<M: SwiftProtobuf.Message>(_: M.Type, _ buffer: ByteBuffer, text number: UInt64, refusing: UInt64?,
                                                        _ assign: (inout M, String) -> Void) -> M? {
        buffer.withUnsafeReadableBytes { raw -> M? in
            guard let layout = TextFieldLayout(raw, number: number, refusing: refusing) else { return nil }
            var message = M()
            do {
                if let field = layout.field {
                    if field.lowerBound > 0 { try message.merge(serializedBytes: UnsafeRawBufferPointer(rebasing: raw[..<field.lowerBound])) }
                    if field.upperBound < raw.count { try message.merge(serializedBytes: UnsafeRawBufferPointer(rebasing: raw[field.upperBound...])) }
                } else {
                    try message.merge(serializedBytes: raw)
                }
            } catch {
                return nil
            }
            if let value = layout.value, !value.isEmpty {
                guard let text = String(validating: UnsafeRawBufferPointer(rebasing: raw[value]), as: UTF8.self) else { return nil }
                assign(&message, text)
            }
            return message
        }
    }
}

extension Rampart_V1_GenerateRequest {
    /// Whether `prompt` (2), or the `content` (2) of one chat message (1), occurs more than once.
    /// Malformed encodings answer false (decoding reports them).
    static func repeatsTextField(_ raw: UnsafeRawBufferPointer) -> Bool {
        var prompts = 0
        var fields = WireFields(raw)
        while let field = fields.next() {
            guard field.wireType == 2 else { continue }
            if field.number == 2 {
                prompts += 1
                if prompts > 1 { return true }
            } else if field.number == 1, TextViews.repeats(2, in: UnsafeRawBufferPointer(rebasing: raw[field.value])) {
                return true
            }
        }
        return false
    }
}

extension TextViews {
    /// Whether length-delimited field `number` occurs more than once at the top level of `raw`.
    static func repeats(_ number: UInt64, in raw: UnsafeRawBufferPointer) -> Bool {
        var seen = false
        var fields = WireFields(raw)
        while let field = fields.next() {
            guard field.number == number, field.wireType == 2 else { continue }
            if seen { return true }
            seen = true
        }
        return false
    }
}

/// The top-level fields of a protobuf encoding, in order: number, wire type, the whole field's
/// bytes and its value's (for length-delimited fields, without the length). Stops at the end, or
/// at the first tag, length or group it cannot walk (then `malformed` is true).
struct WireFields: IteratorProtocol {
    struct Field {
        var number: UInt64
        var wireType: UInt64
        var whole: Range<Int>
        var value: Range<Int>
    }

    private let raw: UnsafeRawBufferPointer
    private var index = 0
    private(set) var malformed = false

    init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }

    private mutating func varint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while index < raw.count, shift < 64 {
            let byte = raw[index]
            index += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    mutating func next() -> Field? {
        guard !malformed, index < raw.count else { return nil }
        let start = index
        guard let tag = varint(), tag >> 3 != 0 else { return fail() }
        var valueStart = index
        switch tag & 7 {
        case 0:
            guard varint() != nil else { return fail() }
        case 1:
            index += 8
        case 2:
            guard let length = varint(), length <= UInt64(raw.count - index) else { return fail() }
            valueStart = index
            index += Int(length)
        case 5:
            index += 4
        default:
            return fail()  // groups (3, 4) and invalid wire types
        }
        guard index <= raw.count else { return fail() }
        return Field(number: tag >> 3, wireType: tag & 7, whole: start..<index, value: valueStart..<index)
    }

    private mutating func fail() -> Field? {
        malformed = true
        return nil
    }
}

/// Where the one occurrence of length-delimited field `number` lies in an encoding. Nil when the
/// encoding holds field `refusing`, more than one `number`, a `number` that is not
/// length-delimited, or a tag, length or group that ``WireFields`` cannot walk.
struct TextFieldLayout {
    /// The whole field (tag, length and value).
    var field: Range<Int>?
    /// The field's bytes.
    var value: Range<Int>?

    init?(_ raw: UnsafeRawBufferPointer, number: UInt64, refusing: UInt64? = nil) {
        var fields = WireFields(raw)
        while let next = fields.next() {
            if next.number == refusing { return nil }
            guard next.number == number else { continue }
            guard next.wireType == 2, field == nil else { return nil }
            field = next.whole
            value = next.value
        }
        if fields.malformed { return nil }
    }
}

extension Rampart_V1_GenerateResponse {
    /// Decodes a response through `GenerateResponseTextView` (the text validated by the standard
    /// library); throws swift-protobuf's errors, as decoding the real message does.
    public init(viaTextView bytes: ByteBuffer) throws {
        if let response = Self(textInPlace: bytes) {
            self = response
            return
        }
        // The view keeps only the last `text`; the real message validates every occurrence.
        if bytes.withUnsafeReadableBytes({ TextViews.repeats(1, in: $0) }) {
            self = try Self(serializedBytes: bytes)
            return
        }
        let view = try Rampart_V1_GenerateResponseTextView(serializedBytes: bytes)
        self = try TextViews.rest(Self.self, of: view)
        text = try TextViews.text(view.text)
    }
}

extension Rampart_V1_GenerateResponse {
    /// The usual shape, one `text` (1), decoded without the view: the text validated where it
    /// lies, the other fields merged by the real message. Nil for anything else (the view path
    /// then decides, errors included).
    init?(textInPlace buffer: ByteBuffer) {
        guard let decoded = TextViews.decodeInPlace(Self.self, buffer, text: 1, refusing: nil, { $0.text = $1 }) else { return nil }
        self = decoded
    }
}
