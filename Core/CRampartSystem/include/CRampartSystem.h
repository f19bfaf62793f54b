// System shims for Rampart: SO_PEERCRED and Unix-socket probing, which Swift's
// Glibc overlay does not expose cleanly (struct ucred needs _GNU_SOURCE).
#ifndef C_RAMPART_SYSTEM_H
#define C_RAMPART_SYSTEM_H

#include <stdint.h>

/// Same layout as Linux `struct ucred`.
typedef struct rampart_ucred {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
} rampart_ucred;

/// The value of SO_PEERCRED on this platform (-1 where unsupported).
int rampart_so_peercred(void);

/// Reads the peer credentials of a connected Unix socket. Returns 0 or -1 (errno set).
int rampart_peer_credentials(int fd, rampart_ucred *out);

/// Probes a Unix socket path: 1 if a server accepts connections there (live),
/// 0 if the path is a socket nobody listens on (stale), -1 otherwise (errno set;
/// ENOENT when nothing is there, ENOTSOCK when it is not a socket).
int rampart_probe_unix_socket(const char *path);

/// Sets the process umask and returns the previous one.
uint32_t rampart_set_umask(uint32_t mask);

/// Asks the kernel to send `sig` to this process when its parent *thread* exits
/// (prctl PR_SET_PDEATHSIG; Linux only). Returns 0, or -1 with errno set (ENOTSUP elsewhere).
int rampart_set_parent_death_signal(int sig);

/// How many CPUs this process may run on (sched_getaffinity: `taskset`, cpusets). Returns -1
/// where that cannot be read (not Linux, or the call failed).
int rampart_allowed_cpus(void);

#endif
