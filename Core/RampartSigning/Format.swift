import RampartCrypto

/// The constants of the OpenSSF model-signing v1.0 format (key-based signing).
public enum ModelSigningFormat {
    /// The Sigstore bundle media type of `model.sig`.
    public static let bundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
    /// The DSSE payload type.
    public static let payloadType = "application/vnd.in-toto+json"
    /// The in-toto statement type.
    public static let statementType = "https://in-toto.io/Statement/v1"
    /// The model-signing predicate type.
    public static let predicateType = "https://model_signing/signature/v1.0"
    /// The default signature file name, inside the signed directory.
    public static let defaultSignatureName = "model.sig"
    /// The git paths the reference tool ignores by default (at the top level of the model).
    public static let gitIgnorePaths = [".git", ".gitattributes", ".github", ".gitignore"]
    /// The largest signature file Rampart will read.
    public static let maximumSignatureFileSize = 16 * 1024 * 1024
    /// The most DSSE signatures an envelope may carry.
    public static let maximumSignatureCount = 16

    /// DSSE v1 pre-authentication encoding:
    /// `"DSSEv1" SP len(type) SP type SP len(body) SP body`, lengths in ASCII decimal bytes.
    static func pae(payloadType: String, payload: [UInt8]) -> [UInt8] {
        let type = Array(payloadType.utf8)
        var out = Array("DSSEv1 \(type.count) ".utf8)
        out.append(contentsOf: type)
        out.append(contentsOf: Array(" \(payload.count) ".utf8))
        out.append(contentsOf: payload)
        return out
    }
}

/// The lower-case hex SHA-256 of `bytes`.
func sha256Hex(_ bytes: [UInt8]) -> String { hexString(RampartCrypto.SHA256.hash(bytes)) }

/// One file of a signed manifest.
public struct FileDigest: Sendable, Hashable, CustomStringConvertible {
    /// The POSIX path relative to the model root.
    public let path: String
    /// The lower-case hex SHA-256 of the file's contents.
    public let sha256: String

    public init(path: String, sha256: String) {
        self.path = path
        self.sha256 = sha256
    }

    public var description: String { "\(sha256)  \(path)" }
}

/// The in-toto statement of a model signature (predicate v1.0, serialization method `files`).
struct ModelStatement: Sendable {
    var modelName: String
    var resources: [(path: ManifestPath, digest: [UInt8])]
    var ignorePaths: [String]
    var allowSymlinks: Bool

    var rootDigest: [UInt8] { RampartSigning.rootDigest(of: resources.map(\.digest)) }

    /// Compact JSON with members in the order of the format description. Verifiers (ours and the
    /// reference tool) parse the payload, so the exact whitespace and member order do not matter.
    func serialize() -> [UInt8] {
        var subject = JSONObject()
        subject.append("name", .string(modelName))
        subject.append("digest", .object(JSONObject([("sha256", .string(hexString(rootDigest)))])))

        var serialization = JSONObject()
        serialization.append("method", .string("files"))
        serialization.append("hash_type", .string("sha256"))
        serialization.append("allow_symlinks", .bool(allowSymlinks))
        serialization.append("ignore_paths", .array(ignorePaths.map { .string($0) }))

        let resourceValues: [JSONValue] = resources.map { resource in
            .object(JSONObject([
                ("name", .string(resource.path.string)),
                ("algorithm", .string("sha256")),
                ("digest", .string(hexString(resource.digest))),
            ]))
        }
        var predicate = JSONObject()
        predicate.append("serialization", .object(serialization))
        predicate.append("resources", .array(resourceValues))

        var statement = JSONObject()
        statement.append("_type", .string(ModelSigningFormat.statementType))
        statement.append("subject", .array([.object(subject)]))
        statement.append("predicateType", .string(ModelSigningFormat.predicateType))
        statement.append("predicate", .object(predicate))
        return JSONWriter.serialize(.object(statement))
    }

    /// Parses and checks a signed statement: `_type`, `predicateType`, one subject, the
    /// serialization parameters, canonical unique resource names, and the root digest.
    static func parse(_ payload: [UInt8]) throws(SigningError) -> ModelStatement {
        let root: JSONValue
        do {
            root = try JSONReader.parse(payload)
        } catch {
            throw .malformedStatement("the payload is not valid JSON: \(error)")
        }
        let statement = try object(root, "the statement")
        let type = try string(statement, "_type", in: "the statement")
        guard type == ModelSigningFormat.statementType else { throw .unsupportedStatementType(type) }
        let predicateType = try string(statement, "predicateType", in: "the statement")
        guard predicateType == ModelSigningFormat.predicateType else { throw .unsupportedPredicateType(predicateType) }

        let subjects = try array(statement, "subject", in: "the statement")
        guard subjects.count == 1 else {
            throw .malformedStatement("expected exactly one subject, found \(subjects.count)")
        }
        let subject = try object(subjects[0], "subject[0]")
        let modelName = try string(subject, "name", in: "subject[0]")
        let subjectDigests = try object(required(subject, "digest", in: "subject[0]"), "subject[0].digest")
        let signedRootText = try string(subjectDigests, "sha256", in: "subject[0].digest")
        guard let signedRoot = parseHex(signedRootText, byteCount: 32) else {
            throw .malformedStatement("subject[0].digest.sha256 is not 64 hex digits")
        }

        let predicate = try object(required(statement, "predicate", in: "the statement"), "predicate")
        let serialization = try object(required(predicate, "serialization", in: "predicate"), "predicate.serialization")
        let method = try string(serialization, "method", in: "predicate.serialization")
        guard method == "files" else {
            throw .unsupportedSerialization("method '\(method)' (only 'files' is supported)")
        }
        let hashType = try string(serialization, "hash_type", in: "predicate.serialization")
        guard hashType == "sha256" else {
            throw .unsupportedSerialization("hash_type '\(hashType)' (only 'sha256' is supported)")
        }
        guard case .bool(let allowSymlinks)? = serialization["allow_symlinks"] else {
            throw .malformedStatement("predicate.serialization.allow_symlinks must be a boolean")
        }
        var ignorePaths: [String] = []
        if let value = serialization["ignore_paths"] {
            guard case .array(let entries) = value else {
                throw .malformedStatement("predicate.serialization.ignore_paths must be an array")
            }
            for (i, entry) in entries.enumerated() {
                guard case .string(let text) = entry else {
                    throw .malformedStatement("predicate.serialization.ignore_paths[\(i)] must be a string")
                }
                guard ManifestPath(normalizing: text) != nil else {
                    throw .malformedStatement("predicate.serialization.ignore_paths[\(i)] '\(text)' is not a relative path inside the model")
                }
                ignorePaths.append(text)
            }
        }

        let resourceValues = try array(predicate, "resources", in: "predicate")
        var resources: [(path: ManifestPath, digest: [UInt8])] = []
        resources.reserveCapacity(resourceValues.count)
        var seen = Set<ManifestPath>()
        for (i, value) in resourceValues.enumerated() {
            let where_ = "predicate.resources[\(i)]"
            let resource = try object(value, where_)
            let name = try string(resource, "name", in: where_)
            guard let path = ManifestPath(canonical: name) else {
                throw .malformedStatement("\(where_).name '\(name)' is not a canonical relative POSIX path")
            }
            guard seen.insert(path).inserted else {
                throw .malformedStatement("\(where_).name '\(name)' is listed more than once")
            }
            let algorithm = try string(resource, "algorithm", in: where_)
            guard algorithm == hashType else {
                throw .unsupportedSerialization("\(where_) uses algorithm '\(algorithm)', expected '\(hashType)'")
            }
            let digestText = try string(resource, "digest", in: where_)
            guard let digest = parseHex(digestText, byteCount: 32) else {
                throw .malformedStatement("\(where_).digest is not 64 hex digits")
            }
            resources.append((path, digest))
        }

        let parsed = ModelStatement(modelName: modelName, resources: resources, ignorePaths: ignorePaths,
                                    allowSymlinks: allowSymlinks)
        let computed = parsed.rootDigest
        guard computed == signedRoot else {
            throw .rootDigestMismatch(signed: hexString(signedRoot), computed: hexString(computed))
        }
        return parsed
    }

    // MARK: typed member access

    private static func required(_ object: JSONObject, _ key: String, in context: String) throws(SigningError) -> JSONValue {
        guard let value = object[key] else { throw .malformedStatement("\(context) has no '\(key)'") }
        return value
    }

    private static func object(_ value: JSONValue, _ context: String) throws(SigningError) -> JSONObject {
        guard case .object(let object) = value else {
            throw .malformedStatement("\(context) must be an object, found \(value.typeName)")
        }
        return object
    }

    private static func string(_ object: JSONObject, _ key: String, in context: String) throws(SigningError) -> String {
        let value = try required(object, key, in: context)
        guard case .string(let text) = value else {
            throw .malformedStatement("\(context).\(key) must be a string, found \(value.typeName)")
        }
        return text
    }

    private static func array(_ object: JSONObject, _ key: String, in context: String) throws(SigningError) -> [JSONValue] {
        let value = try required(object, key, in: context)
        guard case .array(let elements) = value else {
            throw .malformedStatement("\(context).\(key) must be an array, found \(value.typeName)")
        }
        return elements
    }
}
