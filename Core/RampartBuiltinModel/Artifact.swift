import Foundation
import RampartCrypto

/// The verified contents of an artifact directory.
struct VerifiedArtifact {
    var config: ModelConfig
    var tokenizer: TokenizerFile
    var weights: [UInt8]
    /// `<version_prefix>+<first 12 hex digits of SHA-256(manifest.json)>`.
    var version: String
}

/// `manifest.json`: every other file of the artifact with its size and SHA-256.
struct Manifest: Codable, Equatable {
    struct Entry: Codable, Equatable {
        var path: String
        var sha256: String
        var size: Int
    }

    static let formatName = "rampart-model-manifest/1"
    static let fileName = "manifest.json"

    var format: String
    var name: String
    var files: [Entry]
}

/// `config.json` (only the fields the runtime needs; the file holds more provenance).
struct ModelConfig: Decodable {
    struct Files: Decodable {
        var tokenizer: String
        var weights: String
    }

    var name: String
    var formatVersion: Int
    var versionPrefix: String
    var order: Int
    var vocabSize: Int
    var contextLength: Int
    var files: Files
}

/// `tokenizer.json`.
struct TokenizerFile: Decodable {
    struct ByteFallback: Decodable {
        var firstId: Int
        var count: Int
    }

    var format: String
    var pretokenizer: String
    var specials: [String]
    var byteFallback: ByteFallback
    var piecesFirstId: Int
    var pieces: [String]
}

enum ArtifactLoader {
    static let supportedFormatVersion = 1

    /// Reads and verifies an artifact directory: the manifest must list exactly the other
    /// files of the directory, with matching sizes and SHA-256 digests.
    static func load(directory: String) throws -> VerifiedArtifact {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BuiltinModelError.artifactNotFound(path: directory)
        }
        let base = URL(fileURLWithPath: directory, isDirectory: true)
        let manifestPath = base.appendingPathComponent(Manifest.fileName).path
        guard fm.fileExists(atPath: manifestPath) else { throw BuiltinModelError.missingFile(Manifest.fileName) }
        let manifestBytes = try readFile(manifestPath)
        let manifest = try parseManifest(manifestBytes)

        let present: [String]
        do {
            present = try fm.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw BuiltinModelError.unreadableFile(path: directory, reason: "\(error)")
        }
        let listed = Set(manifest.files.map(\.path))
        for entry in manifest.files where !present.contains(entry.path) {
            throw BuiltinModelError.missingFile(entry.path)
        }
        for name in present where name != Manifest.fileName && !listed.contains(name) {
            throw BuiltinModelError.unexpectedFile(name)
        }
        var contents: [String: [UInt8]] = [:]
        for entry in manifest.files {
            let path = base.appendingPathComponent(entry.path).path
            var entryIsDirectory: ObjCBool = false
            if fm.fileExists(atPath: path, isDirectory: &entryIsDirectory), entryIsDirectory.boolValue {
                throw BuiltinModelError.unexpectedFile(entry.path + "/")
            }
            let bytes = try readFile(path)
            guard bytes.count == entry.size else {
                throw BuiltinModelError.sizeMismatch(file: entry.path, expected: entry.size, actual: bytes.count)
            }
            let digest = sha256Hex(bytes)
            guard digest == entry.sha256 else {
                throw BuiltinModelError.digestMismatch(file: entry.path, expected: entry.sha256, actual: digest)
            }
            contents[entry.path] = bytes
        }

        guard let configBytes = contents["config.json"] else {
            throw BuiltinModelError.invalidManifest("does not list config.json")
        }
        let config = try parseConfig(configBytes)
        guard config.name == manifest.name else {
            throw BuiltinModelError.invalidConfig("name \"\(config.name)\" differs from the manifest's \"\(manifest.name)\"")
        }
        guard let tokenizerBytes = contents[config.files.tokenizer] else {
            throw BuiltinModelError.invalidConfig("tokenizer file \(config.files.tokenizer) is not in the manifest")
        }
        guard let weights = contents[config.files.weights] else {
            throw BuiltinModelError.invalidConfig("weights file \(config.files.weights) is not in the manifest")
        }
        let tokenizer = try parseTokenizer(tokenizerBytes, fileName: config.files.tokenizer)
        let version = config.versionPrefix + "+" + String(sha256Hex(manifestBytes).prefix(12))
        return VerifiedArtifact(config: config, tokenizer: tokenizer, weights: weights, version: version)
    }

    /// Lower-case hexadecimal SHA-256 of `bytes`.
    static func sha256Hex(_ bytes: [UInt8]) -> String { hexString(SHA256.hash(bytes)) }

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BuiltinModelError.unreadableFile(path: path, reason: "cannot open")
        }
        defer { try? handle.close() }
        do {
            return [UInt8](try handle.readToEnd() ?? Data())
        } catch {
            throw BuiltinModelError.unreadableFile(path: path, reason: "\(error)")
        }
    }

    static func parseManifest(_ bytes: [UInt8]) throws -> Manifest {
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(bytes))
        } catch {
            throw BuiltinModelError.invalidManifest("not valid JSON of the expected shape: \(error)")
        }
        guard manifest.format == Manifest.formatName else {
            throw BuiltinModelError.invalidManifest("format \"\(manifest.format)\", expected \"\(Manifest.formatName)\"")
        }
        var seen = Set<String>()
        for entry in manifest.files {
            let path = entry.path
            guard !path.isEmpty, !path.contains("/"), !path.contains("\\"), path != ".", path != "..",
                path != Manifest.fileName
            else {
                throw BuiltinModelError.invalidManifest("bad file name \"\(path)\"")
            }
            guard seen.insert(path).inserted else {
                throw BuiltinModelError.invalidManifest("\(path) is listed twice")
            }
            guard entry.size >= 0 else {
                throw BuiltinModelError.invalidManifest("\(path) has a negative size")
            }
            guard entry.sha256.utf8.count == 64, entry.sha256.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
            else {
                throw BuiltinModelError.invalidManifest("\(path) has a malformed sha256 \"\(entry.sha256)\"")
            }
        }
        return manifest
    }

    static func parseConfig(_ bytes: [UInt8]) throws -> ModelConfig {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let config: ModelConfig
        do {
            config = try decoder.decode(ModelConfig.self, from: Data(bytes))
        } catch {
            throw BuiltinModelError.invalidConfig("not valid JSON of the expected shape: \(error)")
        }
        guard config.formatVersion == supportedFormatVersion else {
            throw BuiltinModelError.invalidConfig("format_version \(config.formatVersion), this build reads \(supportedFormatVersion)")
        }
        guard !config.name.isEmpty else { throw BuiltinModelError.invalidConfig("empty name") }
        guard !config.versionPrefix.isEmpty, !config.versionPrefix.contains("+") else {
            throw BuiltinModelError.invalidConfig("bad version_prefix \"\(config.versionPrefix)\"")
        }
        guard (2...8).contains(config.order) else {
            throw BuiltinModelError.invalidConfig("order \(config.order) outside 2...8")
        }
        guard (BuiltinTokenizer.firstPieceID + 1...65536).contains(config.vocabSize) else {
            throw BuiltinModelError.invalidConfig("vocab_size \(config.vocabSize) outside \(BuiltinTokenizer.firstPieceID + 1)...65536")
        }
        guard (2...(1 << 24)).contains(config.contextLength) else {
            throw BuiltinModelError.invalidConfig("context_length \(config.contextLength) outside 2...\(1 << 24)")
        }
        return config
    }

    static func parseTokenizer(_ bytes: [UInt8], fileName: String) throws -> TokenizerFile {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(TokenizerFile.self, from: Data(bytes))
        } catch {
            throw BuiltinModelError.invalidTokenizer("\(fileName): not valid JSON of the expected shape: \(error)")
        }
    }
}
