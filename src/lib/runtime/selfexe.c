#include "selfexe.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern char **environ;
extern const char rf_trampoline_bytes[], rf_trampoline_end[];

#define RF_EXE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static bool
sealed_fd_p (int fd)
{
  int seals = fcntl (fd, F_GET_SEALS);
  return seals >= 0 && (seals & RF_EXE_SEALS) == RF_EXE_SEALS;
}

bool
rf_self_exe_sealed_p (void)
{
  /* Asked for every container: the answer holds until this process execs
     (a sealed file stays sealed, and one that is not cannot become a
     memfd), and an exec starts with a fresh one. */
  static int sealed = -1;
  if (sealed < 0)
    {
      cleanup_close int self = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
      sealed = self >= 0 && sealed_fd_p (self);
    }
  return sealed;
}

static int
new_memfd (const char *name, rf_error_t *err)
{
  /* MFD_EXEC where the kernel knows it (6.3+, vm.memfd_noexec). */
  int fd = memfd_create (name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)
    fd = memfd_create (name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return rf_error_sys (err, "memfd_create");
  return fd;
}

static int
copy_all (int to, int from, off_t size)
{
  off_t done = 0;
  while (done < size)
    {
      ssize_t n = sendfile (to, from, NULL, (size_t) (size - done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      done += n;
    }
  return 0;
}

int
rf_self_exe_protect (char **argv, rf_error_t *err)
{
  cleanup_close int self = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  cleanup_close int copy = -1;
  struct stat st;

  if (self < 0)
    return rf_error_sys (err, "protect the binary: open /proc/self/exe");
  if (sealed_fd_p (self))
    {
      /* An exec by fd names the process after the fd's number: its name
         again, for ps and pgrep. */
      const char *slash = strrchr (argv[0], '/');
      prctl (PR_SET_NAME, slash ? slash + 1 : argv[0], 0, 0, 0);
      return 0;
    }
  if (fstat (self, &st) < 0)
    return rf_error_sys (err, "protect the binary: stat /proc/self/exe");
  copy = new_memfd ("runf", err);
  if (copy < 0)
    return rf_error_wrap (err, "protect the binary");
  if (copy_all (copy, self, st.st_size) < 0)
    return rf_error_sys (err, "protect the binary: copy it into memory");
  if (fcntl (copy, F_ADD_SEALS, RF_EXE_SEALS) < 0)
    return rf_error_sys (err, "protect the binary: seal its copy");
  syscall (SYS_execveat, copy, "", argv, environ, AT_EMPTY_PATH);
  return rf_error_sys (err, "protect the binary: exec its sealed copy");
}

static bool
mapped_p (const rf_idmap_t *maps, size_t n, uint32_t id)
{
  for (size_t i = 0; i < n; i++)
    if (id >= maps[i].host_id && id - maps[i].host_id < maps[i].size)
      return true;
  return false;
}

bool
rf_self_exe_exposed_p (const rf_spec_t *spec)
{
  cleanup_close int self = -1;
  const rf_namespace_t *user = rf_spec_namespace (spec, CLONE_NEWUSER);
  struct statvfs vfs;
  struct stat st;

  if (rf_self_exe_sealed_p ())
    return false;
  self = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0 || fstat (self, &st) < 0)
    return true;
  if (fstatvfs (self, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
    return false;
  if (user == NULL || user->path != NULL)
    return true;
  return (st.st_mode & S_IWOTH) || mapped_p (spec->uid_mappings, spec->n_uid_mappings, st.st_uid)
         || mapped_p (spec->gid_mappings, spec->n_gid_mappings, st.st_gid);
}

int
rf_trampoline_open (rf_error_t *err)
{
  size_t len = (size_t) (rf_trampoline_end - rf_trampoline_bytes);
  cleanup_close int fd = new_memfd ("runf-trampoline", err);

  if (fd < 0)
    return rf_error_wrap (err, "the exec trampoline");
  if (rf_write_all (fd, rf_trampoline_bytes, len) != (ssize_t) len)
    return rf_error_sys (err, "the exec trampoline: write");
  if (fcntl (fd, F_ADD_SEALS, RF_EXE_SEALS) < 0)
    return rf_error_sys (err, "the exec trampoline: seal");
  return steal_fd (&fd);
}
