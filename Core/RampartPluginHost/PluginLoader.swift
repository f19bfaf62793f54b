import CRampartPlugin
import Foundation
import RampartCrypto

/// How plugin files are trusted.
public enum PluginTrust: Sendable {
    /// Only directories whose signature verifies; the closure verifies a plugin directory and
    /// returns the signed SHA-256 of each file (relative path → digest).
    case signed(verify: @Sendable (_ directory: String) throws -> [String: [UInt8]])
    /// Unsigned plugins are loaded (explicit dev mode only; logged loudly by the caller).
    case unsignedDevelopment
}

/// A plugin library mapped into the process. Never unloaded (no dlclose: see the ABI header).
public struct LoadedLibrary: @unchecked Sendable {
    public let info: PluginInfo
    /// SHA-256 of the library file that was loaded (its content address).
    public let digest: String
    /// The content-addressed copy that was dlopen'ed.
    public let path: String
    let descriptor: UnsafePointer<rp_plugin_v1>
}

/// Loads plugin libraries: verify → copy to a content-addressed file → dlopen the copy.
///
/// The bytes that are hashed are the bytes that are written to the copy, and the copy lives in
/// a directory only the host writes, so nothing can be swapped between check and load.
public struct PluginLoader: Sendable {
    /// Where content-addressed copies go (created 0700).
    public let cacheDirectory: String
    public let trust: PluginTrust

    public init(cacheDirectory: String, trust: PluginTrust) {
        self.cacheDirectory = cacheDirectory
        self.trust = trust
    }

    /// Loads `library` (a path inside `directory`, which is what the signature covers).
    public func load(directory: String, library: String, name: String) throws(PluginError) -> LoadedLibrary {
        let (bytes, hex) = try verifiedBytes(directory: directory, library: library, name: name)
        let copy = try writeContentAddressed(bytes, hex: hex, name: name)
        guard let handle = dlopen(copy, RTLD_NOW | RTLD_LOCAL) else {
            throw .cannotOpen(plugin: name, reason: String(cString: dlerror()))
        }
        guard let symbol = dlsym(handle, RP_ENTRY_SYMBOL) else { throw .missingEntrySymbol(plugin: name) }
        let entry = unsafeBitCast(symbol, to: rp_entry_fn.self)
        let descriptor = entry(UInt16(RP_ABI_MAJOR), UInt16(RP_ABI_MINOR))
        let info = try DescriptorValidator.validate(descriptor, plugin: name)
        guard let descriptor else { throw .nullDescriptor(plugin: name) }
        return LoadedLibrary(info: info, digest: hex, path: copy, descriptor: descriptor)
    }

    /// Verifies the directory under this loader's trust, reads `library` once and checks that the
    /// bytes read are the bytes that were signed. Returns them with their SHA-256 (hex).
    public func verifiedBytes(directory: String, library: String, name: String) throws(PluginError) -> (Data, String) {
        var signedDigest: [UInt8]?
        switch trust {
        case .signed(let verify):
            let digests: [String: [UInt8]]
            do {
                digests = try verify(directory)
            } catch {
                throw .untrusted(plugin: name, reason: "signature verification failed: \(error)")
            }
            guard let digest = digests[library] else {
                throw .untrusted(plugin: name, reason: "the signature does not cover \(library)")
            }
            signedDigest = digest
        case .unsignedDevelopment:
            break
        }
        let libraryPath = directory + "/" + library
        guard let bytes = FileManager.default.contents(atPath: libraryPath) else {
            throw .cannotOpen(plugin: name, reason: "cannot read \(libraryPath)")
        }
        let digest = SHA256.hash(bytes)
        if let signedDigest, signedDigest != digest {
            throw .untrusted(plugin: name, reason: "\(library) changed after its signature was verified")
        }
        return (bytes, hexString(digest))
    }

    private func writeContentAddressed(_ bytes: Data, hex: String, name: String) throws(PluginError) -> String {
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .cannotOpen(plugin: name, reason: "cannot create plugin cache \(cacheDirectory): \(error)")
        }
        let target = cacheDirectory + "/" + hex + ".so"
        if let existing = fm.contents(atPath: target), hexString(SHA256.hash(existing)) == hex {
            return target
        }
        let temporary = cacheDirectory + "/.\(hex).\(getpid()).tmp"
        guard fm.createFile(atPath: temporary, contents: bytes, attributes: [.posixPermissions: 0o500]) else {
            throw .cannotOpen(plugin: name, reason: "cannot write \(temporary)")
        }
        guard rename(temporary, target) == 0 else {
            unlink(temporary)
            throw .cannotOpen(plugin: name, reason: "cannot rename into \(target): \(String(cString: strerror(errno)))")
        }
        return target
    }
}
