import Foundation
import XCTest

@testable import RampartConfig

/// Garbage never crashes the loader, and whatever it accepts is valid and round-trips.
///
/// `RAMPART_CONFIG_FUZZ_SCALE=N` multiplies the iterations, `RAMPART_CONFIG_FUZZ_SEED` changes the
/// seeds and `RAMPART_CONFIG_FUZZ_TRACE=1` prints every input before parsing it (to find the one
/// that crashes).
final class FuzzTests: XCTestCase {
    static let environment = ProcessInfo.processInfo.environment
    static let scale = max(1, Int(environment["RAMPART_CONFIG_FUZZ_SCALE"] ?? "") ?? 1)
    static let seed = UInt64(environment["RAMPART_CONFIG_FUZZ_SEED"] ?? "") ?? 0
    static let trace = environment["RAMPART_CONFIG_FUZZ_TRACE"] == "1"

    /// Parses `text`; checks the invariants of either outcome.
    func exercise(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        if Self.trace { FileHandle.standardError.write(Data(("fuzz input: " + text.debugDescription + "\n").utf8)) }
        do {
            let config = try ConfigLoader.parse(text, baseDirectory: "/fuzz", source: "fuzz.toml")
            XCTAssertNoThrow(try config.validate(), text, file: file, line: line)
            let reparsed = try? ConfigLoader.parse(config.render(), baseDirectory: "/other", source: "rendered.toml")
            XCTAssertEqual(reparsed, config, "round trip of:\n\(text)", file: file, line: line)
        } catch let error as ConfigError {
            XCTAssertFalse(error.issues.isEmpty, text, file: file, line: line)
            XCTAssertFalse(error.description.isEmpty, file: file, line: line)
            for issue in error.issues {
                if let issueLine = issue.line { XCTAssertGreaterThan(issueLine, 0, file: file, line: line) }
            }
        } catch {
            XCTFail("unexpected error type \(error) for:\n\(text)", file: file, line: line)
        }
    }

    static let fragments: [String] = [
        "[", "]", "[[", "]]", "{", "}", "=", " = ", ",", ".", "\"", "'", "\"\"\"", "'''", "#", "\n", "\r\n", "\t", " ",
        "\\", "\\u0000", "\\U0001F600", "\\n", "server", "limits", "backend", "logging", "socket", "socket_mode",
        "socket_group", "max_frame_size", "lz4", "lz4_threshold", "max_tokens", "default_max_tokens", "kind",
        "model_path", "level", "format", "\"0660\"", "\"0600\"", "\"null\"", "\"builtin\"", "true", "false", "0", "-1",
        "1024", "9223372036854775807", "-9223372036854775808", "99999999999999999999", "1.5", "inf", "nan",
        "1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", "0x1F", "0o777", "0b101", "1_000", "é", "☃", "𝄞", "\u{FEFF}",
        "\u{7F}", "\u{1}", "[server]\n", "[limits]\n", "[[plugins]]\n", "a.b.c", "\"q.k\"", "[plugin_trust]\n",
        "[chain]\n", "trusted_keys", "allow_unsigned", "cache_dir", "hold_back_bytes", "name", "path", "timeout_ms",
        "isolation", "\"process\"", "[\"k.pub\"]", "[[plugins]]\nname = \"a\"\npath = \"p\"\n",
    ]

    func testRandomFragmentSoup() {
        var rng = SplitMix64(seed: 0x5EED_0001 &+ Self.seed)
        for _ in 0..<3000 * Self.scale {
            var text = ""
            for _ in 0..<Int.random(in: 0...40, using: &rng) {
                text += Self.fragments.randomElement(using: &rng) ?? ""
            }
            exercise(text)
        }
    }

    func testRandomScalars() {
        var rng = SplitMix64(seed: 0x5EED_0002 &+ Self.seed)
        for _ in 0..<2000 * Self.scale {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...120, using: &rng) {
                let value: UInt32 =
                    Bool.random(using: &rng)
                    ? UInt32.random(in: 0x09...0x7E, using: &rng) : UInt32.random(in: 0...0x10FFFF, using: &rng)
                if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
            }
            exercise(String(scalars))
        }
    }

    func testMutationsOfAValidFile() throws {
        let seed = RampartConfig.dev(runDirectory: "/run").render() + "\n" + ValidFileTests.full
        let original = Array(seed.unicodeScalars)
        var rng = SplitMix64(seed: 0x5EED_0003 &+ Self.seed)
        for _ in 0..<1500 * Self.scale {
            var scalars = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                guard !scalars.isEmpty else { break }
                let at = Int.random(in: 0..<scalars.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: scalars.remove(at: at)
                case 1:
                    let fragment = Self.fragments.randomElement(using: &rng) ?? ""
                    scalars.insert(contentsOf: Array(fragment.unicodeScalars), at: at)
                case 2:
                    let end = min(scalars.count, at + Int.random(in: 1...80, using: &rng))
                    scalars.removeSubrange(at..<end)
                default:
                    let other = Int.random(in: 0..<scalars.count, using: &rng)
                    scalars.swapAt(at, other)
                }
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            exercise(String(view))
        }
    }

    /// Near-valid documents: known and unknown sections and keys with values of every type.
    func testStructuredDocuments() {
        var rng = SplitMix64(seed: 0x5EED_0004 &+ Self.seed)
        let sections = RampartConfig.schema.map(\.name) + ["sever", "plugins", "auth"]
        let keys = RampartConfig.schema.flatMap(\.keyNames) + ["sockt", "max_token", "lvl", "x"]
        let values = [
            "0", "1", "-1", "64", "100", "1024", "4096", "65536", "1048576", "4194304", "67108864", "67108865",
            "1000000", "3600000", "86400000", "true", "false", "1.0", "\"\"", "\"0600\"", "\"0660\"", "\"rampart\"",
            "\"1000\"", "\"null\"", "\"builtin\"", "\"json\"", "\"text\"", "\"debug\"", "\"run/x.sock\"",
            "\"/abs/x.sock\"", "\"models\"", "[]", "[1, 2]", "{}", "{ a = 1 }", "1979-05-27", "'literal'",
            "\"\"\"\nmulti\n\"\"\"",
        ]
        for _ in 0..<1500 * Self.scale {
            var text = ""
            var used = Set<String>()
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                let section = sections.randomElement(using: &rng) ?? "server"
                guard used.insert(section).inserted else { continue }
                text += "[\(section)]\n"
                var usedKeys = Set<String>()
                for _ in 0..<Int.random(in: 0...6, using: &rng) {
                    let key = keys.randomElement(using: &rng) ?? "x"
                    guard usedKeys.insert(key).inserted else { continue }
                    text += "\(key) = \(values.randomElement(using: &rng) ?? "0")\n"
                }
            }
            exercise(text)
        }
    }

    /// `[plugin_trust]`, `[chain]` and `[[plugins]]` entries with valid and invalid keys and values.
    func testPluginDocuments() {
        var rng = SplitMix64(seed: 0x5EED_0005 &+ Self.seed)
        let trust = [
            "trusted_keys = [\"k.pub\"]", "trusted_keys = []", "trusted_keys = [\"a\", \"/b\"]", "trusted_keys = \"k\"",
            "trusted_keys = [1]", "trusted_keys = [\"\"]", "allow_unsigned = true", "allow_unsigned = 0",
            "cache_dir = \"c\"", "cache_dir = \"\"", "cache = \"c\"",
        ]
        let chain = ["hold_back_bytes = 0", "hold_back_bytes = 65536", "hold_back_bytes = -1", "hold_back = 1"]
        let entry = [
            "name = \"a\"", "name = \"b-2\"", "name = \"A\"", "name = \"\"", "name = 1", "path = \"p\"", "path = \"/abs\"",
            "path = \"\"", "config = \"x,y\"", "config = \"\"", "failure_mode = \"open\"", "failure_mode = \"shut\"",
            "timeout_ms = 1", "timeout_ms = 0", "timeout_ms = 60001", "isolation = \"process\"",
            "isolation = \"vm\"", "enabled = false", "enabled = \"no\"", "timout_ms = 5", "[plugins.sub]",
        ]
        var accepted = 0
        let iterations = 1500 * Self.scale
        for _ in 0..<iterations {
            var text = ""
            if Bool.random(using: &rng) {
                text += "[plugin_trust]\n"
                for line in trust.shuffled(using: &rng).prefix(Int.random(in: 0...2, using: &rng)) { text += line + "\n" }
            }
            if Int.random(in: 0..<4, using: &rng) == 0 {
                text += "[chain]\n" + (chain.randomElement(using: &rng) ?? "") + "\n"
            }
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                // One line per key (a repeated key is a TOML syntax error); sometimes no name or path.
                var lines: [String: String] = [:]
                if Int.random(in: 0..<8, using: &rng) != 0 { lines["name"] = "name = \"n\(Int.random(in: 0...2, using: &rng))\"" }
                if Int.random(in: 0..<8, using: &rng) != 0 { lines["path"] = "path = \"p\"" }
                var subtable = ""
                for line in entry.shuffled(using: &rng).prefix(Int.random(in: 0...3, using: &rng)) {
                    if line.hasPrefix("[") {
                        subtable = line + "\nx = 1\n"
                    } else {
                        lines[String(line.prefix { $0 != " " })] = line
                    }
                }
                text += "[[plugins]]\n" + lines.values.sorted().map { $0 + "\n" }.joined() + subtable
            }
            exercise(text)
            if (try? ConfigLoader.parse(text, baseDirectory: "/fuzz", source: "fuzz.toml")) != nil { accepted += 1 }
        }
        // Both outcomes are exercised: accepted documents go through validate() and the round trip.
        XCTAssertGreaterThan(accepted, iterations / 20)
        XCTAssertLessThan(accepted, iterations - iterations / 20)
    }

    func testNastyInputs() {
        let deep = String(repeating: "[", count: 5000)
        let deepInline = "a = " + String(repeating: "{b = ", count: 2000) + "1" + String(repeating: "}", count: 2000)
        let inputs = [
            "", "\n", "\u{0}", "[\u{0}]", "=", "[]", "[[]]", "[server]]", "[[server]]\n", "server = []",
            "server = [[1], [2]]", "server = { }", "\"\" = 1", "[\"\"]\n\"\" = 1", "[server]\n\"\" = 1",
            "[server]\n\"x\\u0000y\" = 1\n\"x\\u0000z\" = 2", "[server]\nsocket = \"\\U00000000\"",
            "a = \"\"\"\n\\u0000\n\"\"\"", "x = '''\n[server]\nsocket = 1\n'''", deep, "a = " + deep, deepInline,
            String(repeating: "[server]\n", count: 3), String(repeating: "# comment\n", count: 10000),
            "[server]\nsocket = \"" + String(repeating: "x", count: 100_000) + "\"",
            "[server]\n" + String(repeating: "k = 1\n", count: 2),
            String(repeating: "a.", count: 300) + "b = 1", "\u{FEFF}[server]\nlz4 = true", "[server]\r\nlz4 = true\r\n",
            "[server]\nmax_frame_size = -0", "[server]\nmax_frame_size = +1024", "[limits]\nmax_tokens = 1e3",
            "server.socket.x = 1", "[server.socket]", "[backend]\nkind = \"\"", "[logging]\nlevel = \"\u{0301}\"",
        ]
        for input in inputs { exercise(input) }
    }
}
