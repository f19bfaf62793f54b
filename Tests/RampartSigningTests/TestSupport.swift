import Foundation
import XCTest
@testable import RampartSigning

/// A scratch directory removed at deinit.
final class TemporaryDirectory {
    let path: String

    init(_ label: String = "rampart-signing") throws {
        let base = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func sub(_ relative: String) -> String { path + "/" + relative }

    /// Creates a model directory `name` holding `files` (relative path → contents).
    func makeModel(_ name: String = "model", _ files: [String: String]) throws -> String {
        let root = sub(name)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (relative, contents) in files { try write(root + "/" + relative, contents) }
        return root
    }
}

func write(_ path: String, _ contents: String) throws {
    try write(path, Data(contents.utf8))
}

func write(_ path: String, _ data: Data) throws {
    let directory = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try data.write(to: URL(fileURLWithPath: path))
}

func readBytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

/// The directory of committed fixtures (found from this source file, so no resources are needed).
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

/// A small model used by most tests.
let sampleFiles: [String: String] = [
    "config.json": "{\"layers\": 2}\n",
    "weights/shard-0.bin": String(repeating: "w0", count: 5000),
    "weights/shard-1.bin": "w1",
    "tokenizer/vocab.txt": "a\nb\nc\n",
    "README.md": "# tiny\n",
]

/// Asserts that `body` throws exactly `expected`.
func XCTAssertThrowsSigningError<T>(
    _ expected: SigningError, _ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line
) {
    do {
        _ = try body()
        XCTFail("expected \(expected), but it succeeded", file: file, line: line)
    } catch let error as SigningError {
        XCTAssertEqual(error, expected, file: file, line: line)
    } catch {
        XCTFail("expected \(expected), got \(error)", file: file, line: line)
    }
}

/// Asserts that `body` throws a `SigningError` matching `predicate`, returning it.
@discardableResult
func XCTAssertThrowsSigningError<T>(
    _ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line,
    where predicate: (SigningError) -> Bool
) -> SigningError? {
    do {
        _ = try body()
        XCTFail("expected an error, but it succeeded", file: file, line: line)
    } catch let error as SigningError {
        XCTAssertTrue(predicate(error), "unexpected error: \(error)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected a SigningError, got \(error)", file: file, line: line)
    }
    return nil
}

/// Signs an arbitrary statement (for tests that need validly signed but semantically wrong
/// statements) and writes the bundle to `path`.
func writeSignedStatement(_ statement: [UInt8], key: SigningKey, to path: String,
                          payloadType: String = ModelSigningFormat.payloadType) throws {
    let signature = try key.sign(ModelSigningFormat.pae(payloadType: payloadType, payload: statement))
    let bundle = SignatureBundle.encode(statement: statement, signature: signature, hint: key.verifyingKey.hint)
    try write(path, Data(bundle))
}

/// Parses a signature file into a mutable JSON tree (Foundation), for tamper tests.
func loadBundleJSON(_ path: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
    return object as? [String: Any] ?? [:]
}

func saveBundleJSON(_ object: [String: Any], _ path: String) throws {
    try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
}

/// Decodes the statement inside a signature file.
func statementJSON(_ path: String) throws -> [String: Any] {
    let bundle = try loadBundleJSON(path)
    let envelope = bundle["dsseEnvelope"] as? [String: Any] ?? [:]
    let payload = Data(base64Encoded: envelope["payload"] as? String ?? "") ?? Data()
    return try JSONSerialization.jsonObject(with: payload) as? [String: Any] ?? [:]
}

/// Whether `error` reports exactly one difference: `path` modified.
func isSingleModification(_ error: SigningError, _ path: String) -> Bool {
    guard case .manifestMismatch(let differences) = error, differences.count == 1,
          case .modified(let modified, _, _) = differences[0] else { return false }
    return modified == path
}
