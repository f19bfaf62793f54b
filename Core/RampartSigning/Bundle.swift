import RampartCrypto

/// A signed model: the `model.sig` bytes (a Sigstore bundle v0.3 carrying a DSSE envelope over
/// the in-toto statement) plus what it says, for display.
public struct SignatureBundle: Sendable {
    /// The signature file's contents (compact JSON).
    public let bytes: [UInt8]
    /// The signed in-toto statement (the DSSE payload).
    public let statement: [UInt8]
    /// The model name recorded in the statement's subject.
    public let modelName: String
    /// The lower-case hex root digest (the subject's sha256).
    public let rootDigest: String
    /// The signed files, in the order they are listed (pathlib order).
    public let files: [FileDigest]
    /// The ignore paths recorded in the statement.
    public let ignorePaths: [String]
    /// The public key hint recorded in the bundle.
    public let keyHint: String

    /// Writes the signature file (mode 0644, atomically, replacing an existing file by default).
    public func write(to path: String, overwrite: Bool = true) throws(SigningError) {
        try FileSystem.writeFileAtomically(path, bytes, mode: 0o644, overwrite: overwrite)
    }

    static func encode(statement: [UInt8], signature: [UInt8], hint: String) -> [UInt8] {
        var publicKey = JSONObject()
        publicKey.append("hint", .string(hint))
        var material = JSONObject()
        material.append("publicKey", .object(publicKey))
        material.append("tlogEntries", .array([]))
        var signatureObject = JSONObject()
        signatureObject.append("sig", .string(Base64.encode(signature)))
        signatureObject.append("keyid", .string(""))
        var envelope = JSONObject()
        envelope.append("payload", .string(Base64.encode(statement)))
        envelope.append("payloadType", .string(ModelSigningFormat.payloadType))
        envelope.append("signatures", .array([.object(signatureObject)]))
        var bundle = JSONObject()
        bundle.append("mediaType", .string(ModelSigningFormat.bundleMediaType))
        bundle.append("verificationMaterial", .object(material))
        bundle.append("dsseEnvelope", .object(envelope))
        return JSONWriter.serialize(.object(bundle))
    }
}

/// The unauthenticated contents of a signature file, after structural checks.
struct ParsedBundle: Sendable {
    /// The key hint, nil when absent or empty.
    var hint: String?
    var payloadType: String
    var payload: [UInt8]
    var signatures: [[UInt8]]

    /// Parses `model.sig`. Everything here is attacker-controlled: every field is type-checked,
    /// unknown fields are refused (as the reference tool's strict bundle model does), and base64
    /// must be strict standard base64.
    static func parse(_ bytes: [UInt8]) throws(SigningError) -> ParsedBundle {
        let root: JSONValue
        do {
            root = try JSONReader.parse(bytes)
        } catch {
            throw .malformedBundle("not valid JSON: \(error)")
        }
        let bundle = try object(root, "the bundle")
        try onlyKnown(bundle, ["mediaType", "verificationMaterial", "dsseEnvelope", "messageSignature"], in: "the bundle")

        let mediaType = try string(bundle, "mediaType", in: "the bundle")
        guard mediaType == ModelSigningFormat.bundleMediaType else { throw .unsupportedMediaType(mediaType) }

        let material = try object(required(bundle, "verificationMaterial", in: "the bundle"), "verificationMaterial")
        try onlyKnown(material, ["publicKey", "tlogEntries", "timestampVerificationData", "certificate", "x509CertificateChain"],
                      in: "verificationMaterial")
        if material["certificate"] != nil || material["x509CertificateChain"] != nil {
            throw .unsupportedVerificationMaterial("the bundle is certificate-based; Rampart verifies against trusted public keys only")
        }
        guard let publicKeyValue = material["publicKey"] else {
            throw .unsupportedVerificationMaterial("verificationMaterial has no publicKey")
        }
        let publicKey = try object(publicKeyValue, "verificationMaterial.publicKey")
        // rawBytes/keyDetails: legacy fields the reference tool drops before reading; never trusted.
        try onlyKnown(publicKey, ["hint", "rawBytes", "keyDetails"], in: "verificationMaterial.publicKey")
        var hint: String?
        if let hintValue = publicKey["hint"] {
            switch hintValue {
            case .string(let text): hint = text.isEmpty ? nil : text
            case .null: hint = nil
            default: throw .malformedBundle("verificationMaterial.publicKey.hint must be a string, found \(hintValue.typeName)")
            }
        }
        if let entries = material["tlogEntries"] {
            guard case .array = entries else { throw .malformedBundle("verificationMaterial.tlogEntries must be an array") }
        }

        guard let envelopeValue = bundle["dsseEnvelope"] else {
            if bundle["messageSignature"] != nil {
                throw .malformedBundle("message-signature bundles are not model signatures; expected a dsseEnvelope")
            }
            throw .malformedBundle("the bundle has no dsseEnvelope")
        }
        guard bundle["messageSignature"] == nil else {
            throw .malformedBundle("the bundle has both dsseEnvelope and messageSignature")
        }
        let envelope = try object(envelopeValue, "dsseEnvelope")
        try onlyKnown(envelope, ["payload", "payloadType", "signatures"], in: "dsseEnvelope")
        let payloadText = try string(envelope, "payload", in: "dsseEnvelope")
        let payloadType = try string(envelope, "payloadType", in: "dsseEnvelope")
        guard let payload = Base64.decode(payloadText) else {
            throw .malformedBundle("dsseEnvelope.payload is not valid base64")
        }
        guard case .array(let signatureValues)? = envelope["signatures"] else {
            throw .malformedBundle("dsseEnvelope.signatures must be an array")
        }
        guard !signatureValues.isEmpty else { throw .noSignatures }
        guard signatureValues.count <= ModelSigningFormat.maximumSignatureCount else {
            throw .malformedBundle("dsseEnvelope carries \(signatureValues.count) signatures (limit \(ModelSigningFormat.maximumSignatureCount))")
        }
        var signatures: [[UInt8]] = []
        for (i, value) in signatureValues.enumerated() {
            let context = "dsseEnvelope.signatures[\(i)]"
            let entry = try object(value, context)
            try onlyKnown(entry, ["sig", "keyid"], in: context)
            if let keyid = entry["keyid"] {
                switch keyid {
                case .string, .null: break
                default: throw .malformedBundle("\(context).keyid must be a string, found \(keyid.typeName)")
                }
            }
            let sigText = try string(entry, "sig", in: context)
            guard let signature = Base64.decode(sigText), !signature.isEmpty else {
                throw .malformedBundle("\(context).sig is not valid non-empty base64")
            }
            signatures.append(signature)
        }
        return ParsedBundle(hint: hint, payloadType: payloadType, payload: payload, signatures: signatures)
    }

    // MARK: typed member access

    private static func onlyKnown(_ object: JSONObject, _ known: Set<String>, in context: String) throws(SigningError) {
        for key in object.keys where !known.contains(where: { $0.utf8.elementsEqual(key.utf8) }) {
            throw .malformedBundle("\(context) has an unexpected field '\(key)'")
        }
    }

    private static func required(_ object: JSONObject, _ key: String, in context: String) throws(SigningError) -> JSONValue {
        guard let value = object[key] else { throw .malformedBundle("\(context) has no '\(key)'") }
        return value
    }

    private static func object(_ value: JSONValue, _ context: String) throws(SigningError) -> JSONObject {
        guard case .object(let object) = value else {
            throw .malformedBundle("\(context) must be an object, found \(value.typeName)")
        }
        return object
    }

    private static func string(_ object: JSONObject, _ key: String, in context: String) throws(SigningError) -> String {
        let value = try required(object, key, in: context)
        guard case .string(let text) = value else {
            throw .malformedBundle("\(context).\(key) must be a string, found \(value.typeName)")
        }
        return text
    }
}
