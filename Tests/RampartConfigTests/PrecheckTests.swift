import Foundation
import TOMLKit
import XCTest

@testable import RampartConfig

/// toml++ 3.4 asserts (aborts in debug builds) on a few malformed shapes; the precheck must
/// report them as syntax errors first, and must never flag valid TOML.
final class PrecheckTests: XCTestCase {
    func testShapesThatCrashTomlPlusPlusAreSyntaxErrors() {
        let cases: [(String, line: Int, column: Int)] = [
            ("[ = server]", 1, 3),
            ("[=]", 1, 2),
            ("# x\n[[ = a]]", 2, 4),
            ("[[+a]]", 1, 3),
            ("a = [}", 1, 6),
            ("a = [1, }", 1, 9),
            ("a = [\n  [1],\n  }", 3, 3),
            ("a = { b = [ } ] }", 1, 13),
            ("k = 2020-01-01T:", 1, 5),
            ("k = 2020-01-01T+inf", 1, 5),
            ("[server]\nsocket_mode = 2020-01-01Tx", 2, 15),
        ]
        for (input, line, column) in cases {
            let error = configError(input)
            let issue = singleIssue(error)
            XCTAssertEqual(issue?.kind, .syntax, input)
            XCTAssertEqual(issue?.line, line, input)
            XCTAssertEqual(issue?.column, column, input)
        }
    }

    func testUnquotedStringGetsAHint() {
        XCTAssertEqual(
            configError("[backend]\nkind = builtin\n").description,
            "rampart.toml:2:8: TOML syntax error: invalid value 'builtin' (strings must be quoted)")
        XCTAssertEqual(
            configError("[server]\nsocket = run/r.sock\n").description,
            "rampart.toml:2:10: TOML syntax error: invalid value 'run/r.sock' (strings must be quoted)")
    }

    func testOtherSyntaxErrorsAreLeftToTomlPlusPlus() {
        // Stops at the first malformation it does not handle; toml++ reports it.
        for input in ["[ ]", "a = ", "a = ,", "a.= 1", "[a", "a = \"open", "a = [1 2]", "[ [a]]", "a = {b = 1,}"] {
            XCTAssertNil(TOMLPrecheck.check(Array(input.utf8)), input)
            XCTAssertThrowsError(try TOMLTable(string: input), input)
        }
    }

    static let validDocument = #"""
        # Every TOML 1.0 construct the precheck must let through.
        title = "TOML \"example\" \\ \u00E9 \U0001F600"
        literal = 'C:\Users\nodejs\templates'
        "quoted key" = 1
        'literal key' = 2
        dotted.key.name = true
        site."google.com" = false
        multi = """
        Roses are red
        [not a = header]
        a = [ } ] and "" quotes ""\
           continued"""
        multi2 = '''
        [[ = x]]
        '''''
        ints = [ +99, 42, 0, -17, 1_000, 5_349_221, 0xDEAD_beef, 0o755, 0b1101_0110, -0, +0 ]
        floats = [ +1.0, 3.1415, -0.01, 5e+22, 1e06, -2E-2, 6.626e-34, 224_617.445_991, inf, +inf, -inf, nan, +nan, -nan ]
        dates = [ 1979-05-27T07:32:00Z, 1979-05-27T00:32:00-07:00, 1979-05-27T00:32:00.999999+07:00,
          1979-05-27 07:32:00Z, 1979-05-27t07:32:00z, 1979-05-27T07:32:00, 1979-05-27T00:32:00.999999,
          1979-05-27, 07:32:00, 00:32:00.999999 ]
        nested = [ [ 1, 2 ], [ "a", 'b' ], [ [ [] ] ], ] # trailing comma
        mixed = [
          # comment inside
          { x = 1, y = { z = [ 1, { w = "}" } ] } },
          "]", # a string with a bracket

        ]
        inline = { a = 1, "b c" = 'd', e.f = [ 1 ], g = {} }
        empty = ""
        emptyLiteral = ''

        [table-1]
        key1 = "some string"   # comment
        [ table-2 . "sub" ]
        [[fruits]]
        name = "apple"
        [fruits.physical]
        color = "red"
        [[ fruits ]]
        name = "banana"
        [ 'dog' ."tater.man" ]
        type.name = "pug"
        """#

    func testValidTOMLIsNeverFlagged() throws {
        XCTAssertNil(TOMLPrecheck.check(Array(Self.validDocument.utf8)))
        XCTAssertNoThrow(try TOMLTable(string: Self.validDocument))
        // Windows line endings and a byte-order mark too.
        let crlf = "\u{FEFF}" + Self.validDocument.replacingOccurrences(of: "\n", with: "\r\n")
        XCTAssertNil(TOMLPrecheck.check(Array(crlf.utf8)))
    }

    func testScalarShapes() {
        let valid = [
            "true", "false", "0", "-0", "+1", "1_000", "0x1f", "0o17", "0b1", "1.5", "1e5", "1E-5", "-1.5e+5", "inf", "-nan",
            "1979-05-27", "07:32", "07:32:00", "07:32:00.5", "1979-05-27T07:32:00Z", "1979-05-27 07:32:00+01:00",
        ]
        for token in valid { XCTAssertTrue(ScalarSyntax.isValid(ArraySlice(token.utf8)), token) }
        let invalid = [
            "", "tru", "True", "1_", "_1", "1__0", "0x", "0x_1", "0X1", "1.", ".5", "1e", "1.e5", "infinity", "--1",
            "2020-01-01T", "2020-01-01T:", "2020-1-01", "1979-05-27T07:32:00+7", "07:", "builtin", "4MiB",
        ]
        for token in invalid { XCTAssertFalse(ScalarSyntax.isValid(ArraySlice(token.utf8)), token) }
    }
}
