#define _GNU_SOURCE
#include "CRampartSystem.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef __linux__
#include <sched.h>
#include <sys/prctl.h>
#endif

int rampart_so_peercred(void) {
#ifdef SO_PEERCRED
    return SO_PEERCRED;
#else
    return -1;
#endif
}

int rampart_peer_credentials(int fd, rampart_ucred *out) {
#ifdef SO_PEERCRED
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    out->pid = cred.pid;
    out->uid = cred.uid;
    out->gid = cred.gid;
    return 0;
#else
    (void)fd; (void)out;
    errno = ENOTSUP;
    return -1;
#endif
}

int rampart_probe_unix_socket(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return -1;
    if (!S_ISSOCK(st.st_mode)) { errno = ENOTSOCK; return -1; }
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(addr.sun_path)) { errno = ENAMETOOLONG; return -1; }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
    int saved = errno;
    close(fd);
    if (rc == 0) return 1;
    if (saved == ECONNREFUSED) return 0;
    errno = saved;
    return -1;
}

uint32_t rampart_set_umask(uint32_t mask) {
    return (uint32_t)umask((mode_t)mask);
}

int rampart_set_parent_death_signal(int sig) {
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0UL, 0UL, 0UL);
#else
    (void)sig;
    errno = ENOTSUP;
    return -1;
#endif
}

int rampart_allowed_cpus(void) {
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    return CPU_COUNT(&set);
#else
    return -1;
#endif
}
