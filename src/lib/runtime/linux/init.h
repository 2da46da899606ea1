/* The container's init: everything that runs between clone and exec.
 * The parent fills rf_init_t, clones, and the child calls rf_init_main(),
 * which reports every failure over the sync socket and never returns. */
#ifndef RF_INIT_H
#define RF_INIT_H

#include <signal.h>
#include <stdbool.h>
#include <stdnoreturn.h>

#include "runtime/spec.h"

typedef struct
{
  const rf_spec_t *spec;
  const char *id;
  const char *rootfs; /* absolute path on the host */
  const char *bundle; /* absolute path on the host */
  int sync_fd;        /* the child's end of the socketpair */
  int fifo_fd;        /* exec.fifo, opened read-write; -1: start over sync_fd */
  int preserve_fds;   /* fds 3 .. 3+preserve_fds-1 stay open across exec */
  int listen_fds;     /* of those, the first listen_fds are LISTEN_FDS */
  const int *stdio;   /* fds to become 0, 1, 2 (-1: keep), or NULL */
  bool start_fd;      /* START brings an fd: it becomes 3 (LISTEN_FDS=1) */
  bool start_fd_stdio; /* ... and 0 and 1 too */
  bool die_with_parent; /* PR_SET_PDEATHSIG just before exec */
  pid_t parent;
  bool no_pivot;
  bool no_new_keyring;
  bool clone_namespaces; /* the namespaces were made by clone3 itself */
  int unshare_flags;     /* otherwise: these are unshared after joining */
  bool userns;           /* the container runs in a user namespace */
  bool new_netns;        /* a new network namespace: lo goes up, as with runc */
  bool mounts_slaved;    /* the new mount namespace came with a new user namespace:
                            the kernel made its shared mounts slaves (mount_namespaces(7)) */
  bool second_fork;      /* pid/time namespaces need one more fork */
  int first_parent_fd;   /* after it: a pidfd of init's first parent (-1: none) */
  const int *cgroup_task_fds; /* v1 `tasks` files: write "0" to move in */
  size_t n_cgroup_task_fds;
  bool join_cgroup;      /* runf moves init into its v2 cgroup during SETUP */
  bool late_cgroupns;    /* unshare the cgroup namespace after that */
  pid_t host_pid;        /* init's pid on the host, for hooks (from runf) */
  int lsm_fd;            /* /proc/thread-self/attr (O_PATH), opened before pivot_root */
  bool started;          /* start's byte was read from fifo_fd */
  int trampoline_fd;     /* runf-trampoline for the last exec, or -1 (runtime/selfexe.h) */
  bool make_trampoline;  /* init makes trampoline_fd itself (runf runs unsealed) */
  int *mount_fds;        /* bind mount sources runf opened, by mount index, or NULL */
  unsigned long rootfs_flags; /* MS_NOSUID | MS_NODEV for the rootfs mount, or 0 */
  bool dumpable_when_ready; /* runf's binary is out of the container's reach (runtime/selfexe.h) */
  const sigset_t *changed_signals; /* to reset to their default action; NULL: all */
  bool shared_memory;    /* a child of rf_clone_vm: runs in runf's memory until its exec */
  bool filtered;         /* the seccomp filter is in */
} rf_init_t;

noreturn void rf_init_main (rf_init_t *ctx);
/* Whether the init ctx describes may share its creator's memory until its
   exec (rf_clone_vm): only where everything after READY is the final
   stage that touches nothing of runf's (init.c), and a new pid namespace
   hides it from every other process but its creator meanwhile. */
bool rf_init_shared_memory_p (const rf_init_t *ctx);

#endif
