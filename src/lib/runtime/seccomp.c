#include "seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "linux/sync.h"

const char *const rf_seccomp_actions[] = {
  "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", NULL,
};

const char *const rf_seccomp_operators[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ", NULL,
};

const char *const rf_seccomp_flags[] = {
  "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL,
};

/* System calls newer than the libseccomp runf is built with.  Profiles of
   docker and podman list them; they cannot be filtered by name here, so a
   rule naming only them is left out rather than failing the container. */
static const char *const newer_syscalls[] = {
  "cachestat", "fchmodat2", "map_shadow_stack", "futex_wake", "futex_wait", "futex_requeue",
  "statmount", "listmount", "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules",
  "mseal", "setxattrat", "getxattrat", "listxattrat", "removexattrat", "open_tree_attr",
  "file_getattr", "file_setattr", "uretprobe", "memfd_secret", "process_mrelease",
  "futex_waitv", "set_mempolicy_home_node", "landlock_create_ruleset", "landlock_add_rule",
  "landlock_restrict_self", "quotactl_fd", "epoll_pwait2", "mount_setattr",
  "process_madvise", "faccessat2", "close_range", "openat2", "pidfd_getfd",
  NULL,
};

static int
parse_action (const char *name, uint32_t errno_ret, bool has_errno, uint32_t *out)
{
  if (strcmp (name, "SCMP_ACT_KILL") == 0 || strcmp (name, "SCMP_ACT_KILL_THREAD") == 0)
    *out = SCMP_ACT_KILL_THREAD;
  else if (strcmp (name, "SCMP_ACT_KILL_PROCESS") == 0)
    *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp (name, "SCMP_ACT_TRAP") == 0)
    *out = SCMP_ACT_TRAP;
  else if (strcmp (name, "SCMP_ACT_ERRNO") == 0)
    *out = SCMP_ACT_ERRNO (has_errno ? errno_ret : EPERM);
  else if (strcmp (name, "SCMP_ACT_TRACE") == 0)
    *out = SCMP_ACT_TRACE (has_errno ? errno_ret : EPERM);
  else if (strcmp (name, "SCMP_ACT_ALLOW") == 0)
    *out = SCMP_ACT_ALLOW;
  else if (strcmp (name, "SCMP_ACT_LOG") == 0)
    *out = SCMP_ACT_LOG;
  else if (strcmp (name, "SCMP_ACT_NOTIFY") == 0)
    *out = SCMP_ACT_NOTIFY;
  else
    return -1;
  return 0;
}

static int
parse_op (const char *name, enum scmp_compare *out)
{
  static const struct
  {
    const char *name;
    enum scmp_compare op;
  } ops[] = {
    { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
    { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
    { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
  };
  for (size_t i = 0; i < ARRAY_SIZE (ops); i++)
    if (strcmp (ops[i].name, name) == 0)
      {
        *out = ops[i].op;
        return 0;
      }
  return -1;
}

static int
parse_args (json_t *rule, const char *where, struct scmp_arg_cmp *cmps, size_t *n,
            bool *same_index, rf_error_t *err)
{
  json_t *args = NULL, *a;
  size_t i;
  bool seen[6] = { false };

  *n = 0;
  *same_index = false;
  if (rf_json_get_array (rule, where, "args", &args, err) < 0)
    return -1;
  if (args == NULL)
    return 0;
  if (json_array_size (args) > 16)
    return rf_error_make (err, 0, "%s.args: at most 16 conditions", where);
  json_array_foreach (args, i, a)
    {
      cleanup_free char *aw = xasprintf ("%s.args[%zu]", where, i);
      uint32_t index = 0;
      uint64_t value = 0, value2 = 0;
      const char *op = NULL;
      enum scmp_compare cmp;

      if (!json_is_object (a))
        return rf_error_make (err, 0, "%s: expected an object", aw);
      if (rf_json_get_uint32 (a, aw, "index", &index, err) < 0
          || rf_json_get_uint64 (a, aw, "value", &value, err) < 0
          || rf_json_get_uint64 (a, aw, "valueTwo", &value2, err) < 0
          || rf_json_get_string (a, aw, "op", &op, err) < 0)
        return -1;
      if (index > 5)
        return rf_error_make (err, 0, "%s.index: %u is not 0..5", aw, index);
      if (op == NULL || parse_op (op, &cmp) < 0)
        return rf_error_make (err, 0, "%s.op: unknown operator `%s`", aw, op ? op : "");
      if (seen[index])
        *same_index = true;
      if (!*same_index && i >= 6)
        return rf_error_make (err, 0, "%s: at most 6 conditions on different arguments", aw);
      seen[index] = true;
      cmps[(*n)++] = (struct scmp_arg_cmp){ .arg = index, .op = cmp, .datum_a = value, .datum_b = value2 };
    }
  return 0;
}

static bool
newer_syscall_p (const char *name)
{
  for (size_t i = 0; newer_syscalls[i]; i++)
    if (strcmp (newer_syscalls[i], name) == 0)
      return true;
  return false;
}

static int
add_rule (scmp_filter_ctx ctx, uint32_t action, int nr, const struct scmp_arg_cmp *cmps, size_t n,
          const char *where, const char *name, rf_error_t *err)
{
  int r = seccomp_rule_add_array (ctx, action, nr, n, cmps);
  /* libseccomp refuses a rule whose action is the default one: it would
     change nothing. */
  if (r == -EACCES || r == -EEXIST)
    return 0;
  if (r < 0)
    return rf_error_make (err, -r, "%s: add the rule for `%s`", where, name);
  return 0;
}

static int
add_syscalls (scmp_filter_ctx ctx, json_t *obj, const char *where, uint32_t default_action,
              rf_seccomp_t *out, rf_error_t *err)
{
  json_t *syscalls = NULL, *rule;
  size_t i;

  if (rf_json_get_array (obj, where, "syscalls", &syscalls, err) < 0)
    return -1;
  if (syscalls == NULL)
    return 0;
  json_array_foreach (syscalls, i, rule)
    {
      cleanup_free char *rw = xasprintf ("%s.syscalls[%zu]", where, i);
      cleanup_strv char **names = NULL;
      struct scmp_arg_cmp cmps[16];
      const char *action_name = NULL;
      uint32_t errno_ret = 0, action;
      size_t n_cmps;
      bool same_index;

      if (!json_is_object (rule))
        return rf_error_make (err, 0, "%s: expected an object", rw);
      if (rf_json_get_strv (rule, rw, "names", &names, err) < 0
          || rf_json_get_string (rule, rw, "action", &action_name, err) < 0
          || rf_json_get_uint32 (rule, rw, "errnoRet", &errno_ret, err) < 0)
        return -1;
      if (names == NULL || names[0] == NULL)
        return rf_error_make (err, 0, "%s.names: missing", rw);
      if (action_name == NULL
          || parse_action (action_name, errno_ret, json_object_get (rule, "errnoRet") != NULL, &action) < 0)
        return rf_error_make (err, 0, "%s.action: unknown action `%s`", rw,
                              action_name ? action_name : "");
      if (action == SCMP_ACT_NOTIFY)
        out->notify = true;
      if (parse_args (rule, rw, cmps, &n_cmps, &same_index, err) < 0)
        return -1;
      for (size_t k = 0; names[k]; k++)
        {
          int nr = seccomp_syscall_resolve_name (names[k]);
          if (nr == __NR_SCMP_ERROR)
            {
              if (newer_syscall_p (names[k]))
                {
                  rf_debug ("seccomp: `%s` is newer than libseccomp here; its rule is left out", names[k]);
                  continue;
                }
              return rf_error_make (err, 0, "%s.names: unknown system call `%s`", rw, names[k]);
            }
          if (action == default_action)
            continue;
          if (!same_index)
            {
              if (add_rule (ctx, action, nr, cmps, n_cmps, rw, names[k], err) < 0)
                return -1;
              continue;
            }
          /* Several conditions on one argument can never all hold (runc
             reads them as alternatives): one rule per condition. */
          for (size_t c = 0; c < n_cmps; c++)
            if (add_rule (ctx, action, nr, &cmps[c], 1, rw, names[k], err) < 0)
              return -1;
        }
    }
  return 0;
}

static int
set_flags (json_t *obj, const char *where, rf_seccomp_t *out, rf_error_t *err)
{
  cleanup_strv char **flags = NULL;
  if (rf_json_get_strv (obj, where, "flags", &flags, err) < 0)
    return -1;
  for (size_t i = 0; flags && flags[i]; i++)
    {
      if (strcmp (flags[i], "SECCOMP_FILTER_FLAG_TSYNC") == 0)
        out->flags |= SECCOMP_FILTER_FLAG_TSYNC;
      else if (strcmp (flags[i], "SECCOMP_FILTER_FLAG_LOG") == 0)
        out->flags |= SECCOMP_FILTER_FLAG_LOG;
      else if (strcmp (flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
        out->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
      else if (strcmp (flags[i], "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
        out->flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
      else
        return rf_error_make (err, 0, "%s.flags[%zu]: unknown flag `%s`", where, i, flags[i]);
    }
  return 0;
}

/* The compiled program, read back from libseccomp's export. */
static int
export_program (scmp_filter_ctx ctx, rf_seccomp_t *out, const char *where, rf_error_t *err)
{
  cleanup_close int fd = memfd_create ("runf-seccomp", MFD_CLOEXEC);
  cleanup_free char *buf = NULL;
  size_t len;
  int r;

  if (fd < 0)
    return rf_error_sys (err, "%s: memfd_create", where);
  r = seccomp_export_bpf (ctx, fd);
  if (r < 0)
    return rf_error_make (err, -r, "%s: compile the filter", where);
  if (lseek (fd, 0, SEEK_SET) < 0)
    return rf_error_sys (err, "%s: lseek", where);
  {
    size_t cap = 65536;
    ssize_t n;
    buf = xmalloc (cap);
    len = 0;
    while ((n = read (fd, buf + len, cap - len)) > 0)
      {
        len += n;
        if (len == cap)
          buf = xrealloc (buf, cap *= 2);
      }
    if (n < 0)
      return rf_error_sys (err, "%s: read the filter", where);
  }
  if (len == 0 || len % sizeof (struct sock_filter) != 0)
    return rf_error_make (err, 0, "%s: libseccomp exported no program", where);
  out->insns = (struct sock_filter *) steal_pointer (&buf);
  out->n_insns = len / sizeof (struct sock_filter);
  return 0;
}

int
rf_seccomp_compile (json_t *obj, const char *where, rf_seccomp_t *out, rf_error_t *err)
{
  scmp_filter_ctx ctx = NULL;
  cleanup_strv char **archs = NULL;
  const char *default_name = NULL, *s;
  uint32_t default_errno = 0, default_action;
  int ret = -1;

  memset (out, 0, sizeof *out);
  if (obj == NULL || json_is_null (obj))
    return 0;
  if (!json_is_object (obj))
    return rf_error_make (err, 0, "%s: expected an object", where);
  if (rf_json_get_string (obj, where, "defaultAction", &default_name, err) < 0
      || rf_json_get_uint32 (obj, where, "defaultErrnoRet", &default_errno, err) < 0
      || rf_json_get_strv (obj, where, "architectures", &archs, err) < 0)
    return -1;
  if (default_name == NULL)
    return rf_error_make (err, 0, "%s.defaultAction: missing", where);
  if (parse_action (default_name, default_errno, json_object_get (obj, "defaultErrnoRet") != NULL,
                    &default_action) < 0)
    return rf_error_make (err, 0, "%s.defaultAction: unknown action `%s`", where, default_name);
  if (default_action == SCMP_ACT_NOTIFY)
    return rf_error_make (err, 0, "%s.defaultAction: SCMP_ACT_NOTIFY would trap runf's own exec", where);
  s = NULL;
  if (rf_json_get_string (obj, where, "listenerPath", &s, err) < 0)
    return -1;
  out->listener_path = s && *s ? xstrdup (s) : NULL;
  s = NULL;
  if (rf_json_get_string (obj, where, "listenerMetadata", &s, err) < 0)
    goto fail;
  out->listener_metadata = xstrdup (s ? s : "");
  if (set_flags (obj, where, out, err) < 0)
    goto fail;

  ctx = seccomp_init (default_action);
  if (ctx == NULL)
    {
      rf_error_make (err, ENOMEM, "%s: seccomp_init", where);
      goto fail;
    }
  /* System calls found by a binary search instead of a list: the kernel
     runs the filter on every system call, and when it attaches it, once
     for each system call number (to cache those with a constant action),
     with interrupts off.  With a long allow list that took a function's
     container start about a fifth of a millisecond. */
  seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (size_t i = 0; archs && archs[i]; i++)
    {
      char name[64];
      uint32_t arch;
      int r;
      const char *a = strncmp (archs[i], "SCMP_ARCH_", 10) == 0 ? archs[i] + 10 : archs[i];
      size_t k;
      for (k = 0; a[k] && k < sizeof name - 1; k++)
        name[k] = (char) tolower ((unsigned char) a[k]);
      name[k] = '\0';
      arch = seccomp_arch_resolve_name (name);
      if (arch == 0)
        {
          rf_error_make (err, 0, "%s.architectures[%zu]: unknown architecture `%s`", where, i, archs[i]);
          goto fail;
        }
      r = seccomp_arch_add (ctx, arch);
      if (r < 0 && r != -EEXIST)
        {
          rf_error_make (err, -r, "%s.architectures[%zu]: add `%s`", where, i, archs[i]);
          goto fail;
        }
    }
  if (add_syscalls (ctx, obj, where, default_action, out, err) < 0)
    goto fail;
  if (out->notify && out->listener_path == NULL)
    {
      rf_error_make (err, 0, "%s.listenerPath: SCMP_ACT_NOTIFY needs a listener", where);
      goto fail;
    }
  if (export_program (ctx, out, where, err) < 0)
    goto fail;
  ret = 0;

fail:
  if (ctx)
    seccomp_release (ctx);
  if (ret < 0)
    rf_seccomp_clear (out);
  return ret;
}

int
rf_seccomp_load (const rf_seccomp_t *sc, int *notify_fd, rf_error_t *err)
{
  struct sock_fprog prog = { .len = (unsigned short) sc->n_insns, .filter = sc->insns };
  unsigned int flags = sc->flags | (sc->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
  int r;

  if (notify_fd)
    *notify_fd = -1;
  if (sc->n_insns == 0)
    return 0;
  r = (int) syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (r < 0)
    return rf_error_sys (err, "linux.seccomp: load the filter");
  if (sc->notify && notify_fd)
    *notify_fd = r;
  return 0;
}

int
rf_seccomp_send_listener (const rf_seccomp_t *sc, int notify_fd, const char *state_json,
                          rf_error_t *err)
{
  cleanup_close int sock = -1;
  cleanup_json json_t *state = rf_json_load_buffer ("state", state_json, strlen (state_json), err);
  cleanup_json json_t *msg = NULL;
  cleanup_free char *text = NULL;

  if (state == NULL)
    return -1;
  /* The container process state of the runtime spec: which fds travel,
     whose they are, and the container's state. */
  msg = json_pack ("{s:s, s:[s], s:i, s:s, s:O}", "ociVersion", "1.2.0", "fds", "seccompFd", "pid",
                   (int) json_integer_value (json_object_get (state, "pid")), "metadata",
                   sc->listener_metadata ? sc->listener_metadata : "", "state", state);
  text = json_dumps (msg, JSON_COMPACT);
  sock = rf_unix_connect (sc->listener_path, "linux.seccomp.listenerPath", err);
  if (sock < 0)
    return -1;
  if (rf_send_fd (sock, notify_fd, text, err) < 0)
    return rf_error_wrap (err, "linux.seccomp.listenerPath `%s`", sc->listener_path);
  return 0;
}

void
rf_seccomp_clear (rf_seccomp_t *sc)
{
  free (sc->insns);
  free (sc->listener_path);
  free (sc->listener_metadata);
  memset (sc, 0, sizeof *sc);
}
