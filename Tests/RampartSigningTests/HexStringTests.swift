import Foundation
import RampartCrypto
import XCTest

final class HexStringTests: XCTestCase {
    func testEveryByteValueAndBothOverloads() {
        let bytes = (0...255).map(UInt8.init)
        let expected = bytes.map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(hexString(bytes), expected)
        XCTAssertEqual(hexString(bytes[...]), expected)  // the generic Sequence overload
        XCTAssertEqual(hexString([UInt8]()), "")
        XCTAssertEqual(hexString(SHA256.hash(Array("abc".utf8))),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
