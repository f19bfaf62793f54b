import RampartCore

/// The tokenizer of the embedded model: words, punctuation and whitespace pieces with a
/// byte fallback, so that every string encodes and decodes losslessly.
///
/// Token ids:
/// - `0` `<eos>`, `1` `<system>`, `2` `<user>`, `3` `<assistant>`, `4` `<tool>`,
///   `5` `<retrieved>`: special tokens. ``encode(_:)`` never produces them (the text
///   `"<user>"` encodes as ordinary pieces), so prompt content cannot forge a role marker.
/// - `6...261`: the bytes `0x00...0xFF` (byte fallback).
/// - `262...`: text pieces from `tokenizer.json`.
///
/// Encoding works on UTF-8 bytes. The text is first split into pieces: a run of ASCII
/// letters, a run of ASCII digits, a run of non-ASCII scalars, or one other ASCII
/// character; a single space directly before such a core attaches to it (`" the"`); a
/// run of newlines is one piece; any other whitespace character is a piece of its own.
/// A piece found in the vocabulary becomes one token; otherwise it is covered left to
/// right by the longest vocabulary pieces that match, and by byte tokens where none does.
/// The training script (`scripts/build-builtin-model.py`) implements the same rules.
public struct BuiltinTokenizer: Sendable {
    /// The end-of-sequence token.
    public static let endOfSequence: Int32 = 0
    /// Names of the special tokens, in id order.
    public static let specialNames = ["<eos>", "<system>", "<user>", "<assistant>", "<tool>", "<retrieved>"]
    /// The id of the byte token for `0x00`.
    public static let firstByteID = 6
    /// The id of the first text piece.
    public static let firstPieceID = 262

    /// Number of token ids.
    public let vocabularySize: Int
    /// Bytes of every token, concatenated (special tokens have none).
    private let tokenBytes: [UInt8]
    /// `tokenBytes[tokenOffsets[id] ..< tokenOffsets[id + 1]]` are the bytes of `id`.
    private let tokenOffsets: [Int32]
    private let displayTexts: [String]
    /// Open-addressing hash table of piece ids (-1 = empty), keyed by the piece's bytes.
    private let table: [Int32]
    private let tableMask: Int
    private let maxPieceLength: Int

    init(file: TokenizerFile, vocabularySize: Int, fileName: String) throws {
        func fail(_ message: String) -> BuiltinModelError { .invalidTokenizer("\(fileName): \(message)") }
        guard file.format == "rampart-tokenizer/1" else { throw fail("format \"\(file.format)\", expected \"rampart-tokenizer/1\"") }
        guard file.pretokenizer == "rampart-ascii-v1" else {
            throw fail("pretokenizer \"\(file.pretokenizer)\", expected \"rampart-ascii-v1\"")
        }
        guard file.specials == Self.specialNames else {
            throw fail("special tokens \(file.specials), expected \(Self.specialNames)")
        }
        guard file.byteFallback.firstId == Self.firstByteID, file.byteFallback.count == 256,
            file.piecesFirstId == Self.firstPieceID
        else {
            throw fail("byte tokens must be ids \(Self.firstByteID)...\(Self.firstPieceID - 1) and pieces start at \(Self.firstPieceID)")
        }
        guard Self.firstPieceID + file.pieces.count == vocabularySize else {
            throw fail("\(Self.firstPieceID) + \(file.pieces.count) pieces != vocab_size \(vocabularySize)")
        }
        var bytes: [UInt8] = []
        var offsets: [Int32] = [0]
        var display: [String] = []
        offsets.reserveCapacity(vocabularySize + 1)
        display.reserveCapacity(vocabularySize)
        for name in Self.specialNames {
            offsets.append(Int32(bytes.count))
            display.append(name)
        }
        let hexDigits = Array("0123456789ABCDEF")
        for byte in 0...255 {
            bytes.append(UInt8(byte))
            offsets.append(Int32(bytes.count))
            display.append(byte < 0x80 ? String(UnicodeScalar(UInt8(byte))) : "<0x\(hexDigits[byte >> 4])\(hexDigits[byte & 15])>")
        }
        var longest = 1
        for (index, piece) in file.pieces.enumerated() {
            let utf8 = Array(piece.utf8)
            guard !utf8.isEmpty, utf8.count <= 1024 else {
                throw fail("piece \(Self.firstPieceID + index) is empty or longer than 1024 bytes")
            }
            bytes.append(contentsOf: utf8)
            guard bytes.count < Int(Int32.max) else { throw fail("pieces too large") }
            offsets.append(Int32(bytes.count))
            display.append(piece)
            longest = max(longest, utf8.count)
        }
        var capacity = 16
        while capacity < file.pieces.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        for index in file.pieces.indices {
            let id = Self.firstPieceID + index
            let start = Int(offsets[id])
            let count = Int(offsets[id + 1]) - start
            var slot = Self.hash(bytes, start, count) & mask
            while slots[slot] >= 0 {
                let other = Int(slots[slot])
                let otherStart = Int(offsets[other])
                if Int(offsets[other + 1]) - otherStart == count,
                    bytes[otherStart..<otherStart + count].elementsEqual(bytes[start..<start + count])
                {
                    throw fail("piece \(id) \"\(file.pieces[index])\" duplicates piece \(other)")
                }
                slot = (slot + 1) & mask
            }
            slots[slot] = Int32(id)
        }
        self.vocabularySize = vocabularySize
        self.tokenBytes = bytes
        self.tokenOffsets = offsets
        self.displayTexts = display
        self.table = slots
        self.tableMask = mask
        self.maxPieceLength = longest
    }

    /// The role-marker token that starts a chat message of `role`.
    public static func roleMarker(for role: ChatRole) -> Int32 {
        switch role {
        case .system: 1
        case .user: 2
        case .assistant: 3
        case .tool: 4
        case .retrieved: 5
        }
    }

    /// Whether `token` is one of the six special tokens.
    public static func isSpecial(_ token: Int32) -> Bool { token >= 0 && token < Int32(firstByteID) }

    /// Encodes `text` (never produces special tokens).
    public func encode(_ text: String) -> [Int32] {
        var out: [Int32] = []
        encode(text, into: &out)
        return out
    }

    /// Appends the tokens of `text` to `out`.
    public func encode(_ text: String, into out: inout [Int32]) {
        let utf8 = Array(text.utf8)
        utf8.withUnsafeBufferPointer { encodeBytes($0, into: &out) }
    }

    /// Decodes tokens to text; special tokens contribute nothing, and byte sequences that
    /// are not valid UTF-8 become U+FFFD.
    public func decode<Tokens: Sequence>(_ tokens: Tokens) -> String where Tokens.Element == Int32 {
        var bytes: [UInt8] = []
        for token in tokens { appendBytes(of: token, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A display form of one token: the piece text, the special token's name, the ASCII
    /// character of a byte token below `0x80`, or `<0xHH>` for other byte tokens.
    public func text(of token: Int32) -> String {
        guard token >= 0, Int(token) < vocabularySize else { return "" }
        return displayTexts[Int(token)]
    }

    /// The raw bytes of a token (empty for special tokens and out-of-range ids).
    public func bytes(of token: Int32) -> [UInt8] {
        var out: [UInt8] = []
        appendBytes(of: token, to: &out)
        return out
    }

    /// Whether `piece` is exactly one vocabulary piece (e.g. `" the"` or `"The"`).
    public func containsPiece(_ piece: String) -> Bool {
        let utf8 = Array(piece.utf8)
        return utf8.withUnsafeBufferPointer { lookup($0, 0, $0.count) != nil }
    }

    /// The stored bytes of a token, without copying.
    func byteSlice(of token: Int32) -> ArraySlice<UInt8> {
        guard token >= 0, Int(token) < vocabularySize else { return [] }
        return tokenBytes[Int(tokenOffsets[Int(token)])..<Int(tokenOffsets[Int(token) + 1])]
    }

    func appendBytes(of token: Int32, to out: inout [UInt8]) {
        guard token >= 0, Int(token) < vocabularySize else { return }
        let start = Int(tokenOffsets[Int(token)])
        let end = Int(tokenOffsets[Int(token) + 1])
        if start < end { out.append(contentsOf: tokenBytes[start..<end]) }
    }

    // MARK: - Encoding

    private enum ByteClass { case letter, digit, space, other, nonASCII }

    @inline(__always)
    private static func byteClass(_ byte: UInt8) -> ByteClass {
        switch byte {
        case 0x80...0xFF: .nonASCII
        case 0x41...0x5A, 0x61...0x7A: .letter
        case 0x30...0x39: .digit
        case 0x20, 0x09, 0x0A, 0x0D: .space
        default: .other
        }
    }

    private func coreEnd(_ text: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        let kind = Self.byteClass(text[start])
        if kind == .other { return start + 1 }
        var end = start + 1
        while end < text.count, Self.byteClass(text[end]) == kind { end += 1 }
        return end
    }

    private func encodeBytes(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        var index = 0
        let count = text.count
        while index < count {
            let byte = text[index]
            var end: Int
            if Self.byteClass(byte) == .space {
                if byte == 0x20, index + 1 < count, Self.byteClass(text[index + 1]) != .space {
                    end = coreEnd(text, index + 1)
                } else if byte == 0x0A {
                    end = index + 1
                    while end < count, text[end] == 0x0A { end += 1 }
                } else {
                    end = index + 1
                }
            } else {
                end = coreEnd(text, index)
            }
            encodePiece(text, index, end, into: &out)
            index = end
        }
    }

    private func encodePiece(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout [Int32]) {
        if let id = lookup(text, start, end - start) {
            out.append(id)
            return
        }
        var index = start
        while index < end {
            var length = min(maxPieceLength, end - index)
            var found: Int32?
            while length > 0 {
                if let id = lookup(text, index, length) {
                    found = id
                    break
                }
                length -= 1
            }
            if let id = found {
                out.append(id)
                index += length
            } else {
                out.append(Int32(Self.firstByteID) + Int32(text[index]))
                index += 1
            }
        }
    }

    @inline(__always)
    private static func hash<Bytes: RandomAccessCollection>(_ bytes: Bytes, _ start: Bytes.Index, _ count: Int) -> Int
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for k in start..<start + count {
            h ^= UInt64(bytes[k])
            h = h &* 0x0000_0100_0000_01b3
        }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    private func lookup(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int32? {
        guard count > 0, count <= maxPieceLength else { return nil }
        var slot = Self.hash(text, start, count) & tableMask
        while true {
            let id = table[slot]
            if id < 0 { return nil }
            let pieceStart = Int(tokenOffsets[Int(id)])
            if Int(tokenOffsets[Int(id) + 1]) - pieceStart == count {
                var equal = true
                for k in 0..<count where tokenBytes[pieceStart + k] != text[start + k] {
                    equal = false
                    break
                }
                if equal { return id }
            }
            slot = (slot + 1) & tableMask
        }
    }
}
