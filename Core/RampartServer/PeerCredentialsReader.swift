import CRampartSystem
import NIOCore
import RampartCore

#if canImport(Glibc)
import Glibc
#endif

enum PeerCredentialsReader {
    /// Reads SO_PEERCRED of a connected Unix-socket channel (call on its event loop).
    static func read(from channel: any Channel) -> PeerCredentials? {
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        let option = rampart_so_peercred()
        guard option >= 0 else { return nil }
        let future: EventLoopFuture<rampart_ucred> = provider.unsafeGetSocketOption(
            level: .init(rawValue: SOL_SOCKET), name: .init(rawValue: option))
        // On the channel's own event loop the future is already complete.
        final class Box { var value: PeerCredentials? }
        let box = Box()
        future.assumeIsolated().whenSuccess { cred in box.value = PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid) }
        return box.value
    }
}
