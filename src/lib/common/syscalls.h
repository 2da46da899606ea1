/* Newer system calls through small wrappers (openat2's is common/inroot.c's).  Each returns -1 with errno
 * ENOSYS where the kernel (or a seccomp filter around runf) lacks it, and
 * its caller has a fallback path. */
#ifndef RF_SYSCALLS_H
#define RF_SYSCALLS_H

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct rf_clone_args
{
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};

/* Fork-like clone3: returns 0 in the child.  Only safe to call from a
   single-threaded process: glibc's fork handlers do not run. */
static inline pid_t
rf_clone3 (struct rf_clone_args *args)
{
  return (pid_t) syscall (SYS_clone3, args, sizeof *args);
}

/* A child that shares this process's memory until its exec (CLONE_VM in
   args->flags is added here): it runs fn (arg) on the stack args->stack
   and args->stack_size give, and exits with what fn returns.  No page
   table is copied at the clone, no page is copied on write after it, and
   its exec has nothing to tear down.  The child runs beside this process
   in the same memory, with the same thread-local storage (errno, malloc's
   caches): it may only use what nothing else touches meanwhile.  -1 with
   errno ENOSYS where this file has no such clone for the architecture
   (RF_HAVE_CLONE_VM unset). */
pid_t rf_clone_vm (struct rf_clone_args *args, int (*fn) (void *), void *arg);

#if defined(__x86_64__)
#define RF_HAVE_CLONE_VM 1
/* A system call that sets no errno: -errno on failure.  For a child of
   rf_clone_vm, whose errno is its parent's. */
static inline long
rf_raw_syscall (long n, long a, long b, long c, long d)
{
  register long r10 __asm__ ("r10") = d;
  long ret;
  __asm__ volatile ("syscall"
                    : "=a"(ret)
                    : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                    : "rcx", "r11", "memory");
  return ret;
}
#endif

/* Signal sig back to its default action.  glibc's signal() and sigaction()
   refuse the two signals it reserves (32 and 33), which a caller may
   still have left ignored, and an ignored signal stays ignored across
   exec: the kernel's call takes any.  SIG_DFL, no flags and an empty mask
   are all zero, whatever the architecture's layout of the structure. */
static inline int
rf_signal_default (int sig)
{
  uint64_t act[4] = { 0 };
  return (int) syscall (SYS_rt_sigaction, sig, act, NULL, sizeof (uint64_t));
}

/* Fork-like clone, for kernels without clone3. */
static inline pid_t
rf_clone_legacy (unsigned long flags, int *pidfd)
{
  return (pid_t) syscall (SYS_clone, flags | SIGCHLD, NULL, pidfd, NULL, NULL);
}

static inline int
rf_pidfd_open (pid_t pid)
{
  return (int) syscall (SYS_pidfd_open, pid, 0);
}

static inline int
rf_pidfd_send_signal (int pidfd, int sig)
{
  return (int) syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static inline int
rf_close_range_cloexec (unsigned int first)
{
  return (int) syscall (SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC);
}

static inline int
rf_mount_setattr (int dirfd, const char *path, unsigned int flags,
                  uint64_t set, uint64_t clr)
{
  struct mount_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.attr_set = set;
  attr.attr_clr = clr;
  return (int) syscall (SYS_mount_setattr, dirfd, path, flags, &attr, sizeof attr);
}

static inline int
rf_pivot_root (const char *new_root, const char *put_old)
{
  return (int) syscall (SYS_pivot_root, new_root, put_old);
}

#endif
