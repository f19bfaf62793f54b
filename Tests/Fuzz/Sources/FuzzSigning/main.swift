import FuzzSupport
@testable import RampartSigning

/// Signed-artifact parsing: a `model.sig` Sigstore bundle as the verifier reads it before any
/// signature is checked (strict JSON, strict base64, DSSE envelope, key-hint matching, then the
/// ECDSA check), the in-toto statement inside (parsed only after a valid signature in real use,
/// fuzzed directly here), manifest path normalisation and PEM public keys.
///
/// First byte: what the rest is (mod 5): bundle, statement, JSON document, path list (newline
/// separated), PEM text.
enum Harness {
    static let trusted: [VerifyingKey] = {
        do { return [try SigningKey.generate(curve: .p256).verifyingKey] } catch { fatalError("key: \(error)") }
    }()

    static func run(_ input: inout FuzzInput) {
        let which = input.byte() % 5
        let bytes = input.rest()
        switch which {
        case 0:
            do { _ = try ModelVerifier.verifySignature(bundle: bytes, trustedKeys: trusted) } catch { _ = error.description }
        case 1:
            if let statement = try? ModelStatement.parse(bytes) {
                for path in statement.ignorePaths { _ = ManifestPath(normalizing: path) }
            }
        case 2:
            if let value = try? JSONReader.parse(bytes) {
                let written = JSONWriter.serialize(value)
                do {
                    let again = try JSONReader.parse(written)
                    invariant(again == value, "serialize → parse changed the value")
                } catch {
                    fatalError("the reader refuses the writer's output: \(error)")
                }
            }
            _ = JSONReader.firstInvalidUTF8Offset(bytes)
            _ = Base64.decode(text(bytes))
        case 3:
            for line in pieces(bytes, separator: 0x0A) { _ = ManifestPath(normalizing: text(line)) }
        default:
            do { _ = try VerifyingKey(pemRepresentation: text(bytes)) } catch { _ = error.description }
        }
    }
}

fuzzMain { Harness.run(&$0) }
