import ArgumentParser
import Foundation
import RampartSigning

// `rampart keygen | sign | verify`: OpenSSF model-signing v1.0 signatures over model (and
// plugin) directories, interoperable with the reference tool (docs/SIGNING.md).

/// Prints `error: <message>` to stderr and returns exit status 1 to throw.
private func signingFailure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return ExitCode(1)
}

/// `path` made absolute against the current directory (as the reference CLI treats --signature).
private func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

/// `rampart keygen`: writes an ECDSA key pair.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate an ECDSA key pair for signing models and plugins.",
        discussion: """
            Writes PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (SubjectPublicKeyInfo PEM). \
            Existing files are never replaced unless --force is given.
            """)

    @Option(name: .long, help: "Output prefix: writes PREFIX.key and PREFIX.pub.")
    var out: String

    @Option(name: .long, help: "Curve: p256 (default), p384 or p521.")
    var curve = "p256"

    @Flag(name: .long, help: "Replace existing key files.")
    var force = false

    func validate() throws {
        guard Curve(rawValue: curve) != nil else {
            throw ValidationError("--curve must be one of: \(Curve.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let keyPath = out + ".key"
        let pubPath = out + ".pub"
        do {
            let key = try SigningKey.generate(curve: Curve(rawValue: curve) ?? .p256)
            if !force {
                for path in [keyPath, pubPath] where FileManager.default.fileExists(atPath: path) {
                    throw SigningError.fileExists(path: path)
                }
            }
            try key.write(toPEMFile: keyPath, overwrite: force)
            try key.verifyingKey.write(toPEMFile: pubPath, overwrite: force)
            print("""
                private key: \(keyPath)  (mode 0600; keep it secret)
                public key:  \(pubPath)
                curve:       \(key.curve) (ECDSA with \(key.curve.digestName))
                key hint:    \(key.verifyingKey.hint)
                """)
        } catch {
            throw signingFailure("\(error)")
        }
    }
}

/// `rampart sign`: signs a directory, writing `model.sig`.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a model or plugin directory (OpenSSF model-signing v1.0).",
        discussion: """
            Hashes every file under DIR (SHA-256 per file) and writes a Sigstore bundle with a DSSE \
            envelope over the in-toto statement. By default the signature goes to DIR/model.sig; \
            .git, .gitattributes, .github and .gitignore at the top level are left out. Symbolic \
            links are refused unless --allow-symlinks.
            """)

    @Option(name: .long, help: "The private key (PEM: PKCS#8 or SEC1 EC key).")
    var key: String

    @Option(name: .long, help: "Where to write the signature (default: DIR/model.sig).")
    var signature: String?

    @Option(name: .long, help: "A path to leave out, relative to DIR (repeatable).")
    var ignorePath: [String] = []

    @Flag(name: .long, help: "Also sign .git, .gitattributes, .github and .gitignore.")
    var noIgnoreGitPaths = false

    @Flag(name: .long, help: "Follow symbolic links to files instead of refusing them.")
    var allowSymlinks = false

    @Argument(help: "The directory to sign.")
    var directory: String

    func run() throws {
        let signaturePath = signature.map(absolutePath) ?? directory + "/" + ModelSigningFormat.defaultSignatureName
        do {
            let signingKey = try SigningKey(pemFile: key)
            let options = SigningOptions(ignorePaths: ignorePath, ignoreGitPaths: !noIgnoreGitPaths, allowSymlinks: allowSymlinks)
            let bundle = try ModelSigner.sign(directory: directory, key: signingKey, signatureName: absolutePath(signaturePath),
                                              options: options)
            try bundle.write(to: signaturePath)
            print("""
                signed:      \(directory)  (\(bundle.files.count) file\(bundle.files.count == 1 ? "" : "s"))
                root sha256: \(bundle.rootDigest)
                signature:   \(signaturePath)
                key:         \(signingKey.curve) \(bundle.keyHint)
                """)
        } catch {
            throw signingFailure("\(error)")
        }
    }
}

/// `rampart verify`: verifies a directory against its signature; exit 0 only if it matches.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a signed model or plugin directory against trusted public keys.",
        discussion: """
            Fails (exit 1) unless a trusted key verifies the signature AND the directory holds \
            exactly the signed files with exactly the signed contents. Accepts signatures made by \
            `rampart sign` or by the reference tool (`model_signing sign key`).
            """)

    @Option(name: .long, help: "A trusted public key (PEM; repeatable).")
    var key: [String] = []

    @Option(name: .long, help: "The signature file (default: DIR/model.sig).")
    var signature: String?

    @Flag(name: .long, help: "Follow symlinks to files when the signature allows symlinks.")
    var permitSymlinks = false

    @Flag(name: .long, help: "List every verified file with its digest.")
    var list = false

    @Argument(help: "The directory to verify.")
    var directory: String

    func validate() throws {
        guard !key.isEmpty else { throw ValidationError("give at least one --key PUB.pem") }
    }

    func run() throws {
        do {
            let trusted = try key.map { path throws(SigningError) in try VerifyingKey(pemFile: path) }
            let manifest = try ModelVerifier.verify(
                directory: directory, trustedKeys: trusted, signaturePath: signature,
                options: VerificationOptions(permitSymlinks: permitSymlinks))
            print("""
                verified:    \(directory)  (\(manifest.files.count) file\(manifest.files.count == 1 ? "" : "s"))
                root sha256: \(manifest.rootDigest)
                key:         \(manifest.key.source) (\(manifest.key.curve) \(manifest.key.hint))
                """)
            if list {
                for file in manifest.files { print("  \(file.sha256)  \(file.path)") }
            }
        } catch {
            throw signingFailure("verification of \(directory) failed: \(error)")
        }
    }
}
