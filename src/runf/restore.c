/* `runf restore ID`: make a container again from the images `runf
 * checkpoint` (or runc) saved, with runc's flags.  runf makes its state
 * directory and cgroups as `create` does; CRIU then brings the processes
 * back as children of runf (its rst_sibling), into those cgroups.  With
 * --detach runf leaves them running; without, it stays their parent as
 * `run` does and removes the container when its process exits. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "criu.h"
#include "runf.h"
#include "runtime/cgroup_systemd.h"
#include "runtime/container.h"
#include "runtime/rdt.h"
#include "common/syscalls.h"
#include "runtime/console.h"
#include "runtime/state.h"
#include "supervise.h"

enum
{
  O_CONSOLE_SOCKET = 1,
  O_IMAGE_PATH,
  O_WORK_PATH,
  O_TCP_ESTABLISHED,
  O_TCP_CLOSE,
  O_EXT_UNIX_SK,
  O_SHELL_JOB,
  O_FILE_LOCKS,
  O_MANAGE_CGROUPS_MODE,
  O_BUNDLE,
  O_DETACH,
  O_PID_FILE,
  O_NO_SUBREAPER,
  O_NO_PIVOT,
  O_EMPTY_NS,
  O_AUTO_DEDUP,
  O_LAZY_PAGES,
  O_LSM_PROFILE,
  O_LSM_MOUNT_CONTEXT,
  O_HELP,
};

static const runf_option_t restore_options[] = {
  { "console-socket", 0, true, O_CONSOLE_SOCKET },
  { "image-path", 0, true, O_IMAGE_PATH },
  { "work-path", 0, true, O_WORK_PATH },
  { "tcp-established", 0, false, O_TCP_ESTABLISHED },
  { "tcp-close", 0, false, O_TCP_CLOSE },
  { "ext-unix-sk", 0, false, O_EXT_UNIX_SK },
  { "shell-job", 0, false, O_SHELL_JOB },
  { "file-locks", 0, false, O_FILE_LOCKS },
  { "manage-cgroups-mode", 0, true, O_MANAGE_CGROUPS_MODE },
  { "bundle", 'b', true, O_BUNDLE },
  { "detach", 'd', false, O_DETACH },
  { "pid-file", 0, true, O_PID_FILE },
  { "no-subreaper", 0, false, O_NO_SUBREAPER },
  { "no-pivot", 0, false, O_NO_PIVOT },
  { "empty-ns", 0, true, O_EMPTY_NS },
  { "auto-dedup", 0, false, O_AUTO_DEDUP },
  { "lazy-pages", 0, false, O_LAZY_PAGES },
  { "lsm-profile", 0, true, O_LSM_PROFILE },
  { "lsm-mount-context", 0, true, O_LSM_MOUNT_CONTEXT },
  { "help", 'h', false, O_HELP },
  { 0 },
};

typedef struct
{
  /* the command line */
  const char *id;
  const char *console_socket;
  const char *image_path;
  const char *work_path;
  const char *bundle_arg;
  const char *pid_file;
  const char *lsm_profile;
  const char *lsm_mount_context;
  bool tcp_established, tcp_close, ext_unix_sk, shell_job, file_locks, auto_dedup;
  bool detach, no_subreaper;
  bool has_cg_mode;
  CriuCgMode cg_mode;
  uint32_t empty_ns;
  /* what restoring holds */
  runf_global_t *g;
  rf_spec_t *spec;
  char *bundle;
  char *rootfs;
  char *state_dir;
  char *criu_root;
  bool root_mounted;
  rf_cgroup_t cgroup;
  bool via_systemd; /* the cgroup is a scope unit, made for criu swrk */
  char *rdt_dir;
  pid_t pid; /* the restored init, once CRIU names it */
  int pty_master;
  bool state_written;
  CriuOpts *opts;
} restore_t;

static int
parse_args (int argc, char **argv, restore_t *r, bool *help, rf_error_t *err)
{
  const char *value;
  int index = 1, opt;

  *help = false;
  r->image_path = "checkpoint";
  while ((opt = runf_next_option (argc, argv, &index, restore_options, &value, err)) > 0)
    {
      bool on = value && strcmp (value, "true") == 0;
      switch (opt)
        {
        case O_CONSOLE_SOCKET: r->console_socket = value; break;
        case O_IMAGE_PATH: r->image_path = value; break;
        case O_WORK_PATH: r->work_path = value; break;
        case O_TCP_ESTABLISHED: r->tcp_established = on; break;
        case O_TCP_CLOSE: r->tcp_close = on; break;
        case O_EXT_UNIX_SK: r->ext_unix_sk = on; break;
        case O_SHELL_JOB: r->shell_job = on; break;
        case O_FILE_LOCKS: r->file_locks = on; break;
        case O_AUTO_DEDUP: r->auto_dedup = on; break;
        case O_BUNDLE: r->bundle_arg = value; break;
        case O_DETACH: r->detach = on; break;
        case O_PID_FILE: r->pid_file = value; break;
        case O_NO_SUBREAPER: r->no_subreaper = on; break;
        case O_NO_PIVOT:
          rf_debug ("restore --no-pivot: CRIU sets up the restored root itself");
          break;
        case O_LSM_PROFILE: r->lsm_profile = value; break;
        case O_LSM_MOUNT_CONTEXT: r->lsm_mount_context = value; break;
        case O_LAZY_PAGES:
          if (on)
            return rf_error_make (err, ENOTSUP, "restore --lazy-pages: runf does not support CRIU's lazy migration");
          break;
        case O_MANAGE_CGROUPS_MODE:
          if (runf_criu_cg_mode (value, &r->cg_mode, err) < 0)
            return -1;
          r->has_cg_mode = true;
          break;
        case O_EMPTY_NS:
          if (runf_criu_empty_ns (value, &r->empty_ns, err) < 0)
            return -1;
          break;
        case O_HELP: *help = true; return 0;
        default: break;
        }
    }
  if (opt < 0)
    return -1;
  if (index >= argc)
    return rf_error_make (err, 0, "restore: missing container id");
  if (index + 1 < argc)
    return rf_error_make (err, 0, "restore: unexpected argument `%s`", argv[index + 1]);
  r->id = argv[index];
  return rf_id_check (r->id, err);
}

static int
resolve_rootfs (restore_t *r, rf_error_t *err)
{
  cleanup_free char *path = r->spec->root_path[0] == '/'
                                ? xstrdup (r->spec->root_path)
                                : xasprintf ("%s/%s", r->bundle, r->spec->root_path);
  struct stat st;
  r->rootfs = realpath (path, NULL);
  if (r->rootfs == NULL)
    return rf_error_sys (err, "root.path `%s`", path);
  if (stat (r->rootfs, &st) < 0 || !S_ISDIR (st.st_mode))
    return rf_error_make (err, ENOTDIR, "root.path `%s`: not a directory", path);
  return 0;
}

static int
write_state (restore_t *r, rf_error_t *err)
{
  rf_state_t st = {
    .id = (char *) r->id,
    .pid = r->pid,
    .start_time = rf_proc_start_time (r->pid, NULL),
    .mnt_ns = rf_proc_mnt_ns (r->pid),
    .bundle = r->bundle,
    .rootfs = r->rootfs,
    .created = rf_time_now_rfc3339 (),
    .owner = geteuid (),
    .annotations = r->spec->annotations,
    .rootless = false,
    .own_pidns = rf_spec_namespace (r->spec, CLONE_NEWPID) != NULL,
    .cgroup = r->cgroup,
    .rdt_dir = r->rdt_dir,
  };
  int ret = rf_state_write (r->state_dir, &st, err);
  free (st.created);
  if (ret == 0)
    r->state_written = true;
  return ret;
}

/* CRIU's steps, as they happen: hooks once the namespaces exist, the state
   (with the new init's pid) before the processes run on, and the pty of a
   restored terminal for the engine. */
static int
on_notify (const char *script, pid_t pid, int fd, void *data, rf_error_t *err)
{
  restore_t *r = data;

  if (strcmp (script, "setup-namespaces") == 0)
    {
      const rf_hooks_t *h = &r->spec->hooks;
      if (h->n[RF_HOOK_PRESTART] || h->n[RF_HOOK_CREATE_RUNTIME])
        {
          cleanup_free char *state = rf_hooks_state_json (r->id, "creating", pid, r->bundle,
                                                          r->spec->annotations);
          if (rf_hooks_run (h, RF_HOOK_PRESTART, state, NULL, err) < 0
              || rf_hooks_run (h, RF_HOOK_CREATE_RUNTIME, state, NULL, err) < 0)
            return -1;
        }
    }
  else if (strcmp (script, "post-restore") == 0)
    {
      r->pid = pid;
      if (write_state (r, err) < 0)
        return -1;
      if (r->pid_file && rf_write_pid_file (r->pid_file, pid, err) < 0)
        return -1;
    }
  else if (strcmp (script, "orphan-pts-master") == 0)
    {
      int ret = 0;
      if (fd < 0)
        return rf_error_make (err, EPROTO, "CRIU sent no pty master");
      if (r->console_socket)
        {
          ret = rf_console_socket_send (r->console_socket, fd, err);
          close (fd);
        }
      else if (r->pty_master < 0)
        r->pty_master = fd;
      else
        close (fd);
      return ret;
    }
  else if (fd >= 0)
    close (fd);
  return 0;
}

/* The cgroups of the container, for CRIU: `criu swrk` itself goes in before
   the request, so that every process it restores is born there, and CRIU's
   cgroup roots say where the saved cgroup tree lands (runc does both). */
static int
on_started (pid_t criu, void *data, rf_error_t *err)
{
  restore_t *r = data;
  cleanup_free char *path = xasprintf ("/proc/%d/cgroup", (int) criu);
  cleanup_free char *text = NULL;
  char *line, *save = NULL;

  /* systemd's scope needs a process: criu swrk is the one. */
  if (r->via_systemd && rf_cgroup_systemd_create (&r->cgroup, r->spec, r->id, false, criu, err) < 0)
    return -1;
  if (r->cgroup.n == 0)
    return 0;
  if (!r->via_systemd && rf_cgroup_enter (&r->cgroup, criu, err) < 0)
    return rf_error_wrap (err, "move CRIU into the container's cgroup");
  if (rf_read_file_at (AT_FDCWD, path, 0, &text, NULL, err) < 0)
    return -1;
  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *ctrl = strchr (line, ':'), *cg;
      if (ctrl == NULL || (cg = strchr (ctrl + 1, ':')) == NULL)
        continue;
      *cg++ = '\0';
      ctrl++;
      /* "0::/path" is the v2 hierarchy: CRIU's root for every controller
         not named otherwise. */
      runf_criu_add_cg_root (r->opts, *ctrl ? ctrl : NULL, cg);
    }
  return 0;
}

static bool
has_prefix_dir (const char *path, const char *dir)
{
  size_t len = strlen (dir);
  return strncmp (path, dir, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

/* The host paths of the mounts `checkpoint` declared external (by their
   mountpoint): binds from the bundle, the host's device nodes (what a user
   namespace gets instead of mknod), /dev/null over masked files, and the
   container's cgroup directories as runf's cgroupfs mount shows them, now
   those of the new cgroup.  CRIU looks up only the keys it saved. */
static void
add_external_mounts (restore_t *r)
{
  static const char *const default_devices[] = {
    "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
  };
  const rf_spec_t *spec = r->spec;
  rf_hierarchy_t *h;
  size_t nh;

  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const rf_mount_t *m = &spec->mounts[i];
      if (m->bind && m->source)
        {
          cleanup_free char *source = m->source[0] == '/' ? xstrdup (m->source)
                                                          : xasprintf ("%s/%s", r->bundle, m->source);
          runf_criu_add_ext_mount (r->opts, m->destination, source);
        }
    }
  for (size_t i = 0; i < ARRAY_SIZE (default_devices); i++)
    runf_criu_add_ext_mount (r->opts, default_devices[i], default_devices[i]);
  for (size_t i = 0; i < spec->n_devices; i++)
    runf_criu_add_ext_mount (r->opts, spec->devices[i].path, spec->devices[i].path);
  for (size_t i = 0; spec->masked_paths && spec->masked_paths[i]; i++)
    runf_criu_add_ext_mount (r->opts, spec->masked_paths[i], "/dev/null");

  h = rf_cgroup_hierarchies (&nh);
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const rf_mount_t *m = &spec->mounts[i];
      if (strcmp (m->type, "cgroup") != 0 && strcmp (m->type, "cgroup2") != 0)
        continue;
      for (size_t k = 0; k < nh; k++)
        {
          cleanup_free char *key = NULL;
          cleanup_free char *val = NULL;
          const char *below = h[k].mountpoint + strlen ("/sys/fs/cgroup");
          key = *below ? xasprintf ("%s%s", m->destination, below) : xstrdup (m->destination);
          for (size_t c = 0; c < r->cgroup.n && val == NULL; c++)
            if (has_prefix_dir (r->cgroup.dirs[c].dir, h[k].mountpoint))
              val = xstrdup (r->cgroup.dirs[c].dir);
          if (val == NULL)
            {
              /* A hierarchy runf made no directory in: criu, and so the
                 restored processes, stay where runf is. */
              cleanup_free char *own = rf_cgroup_own_path (h[k].controllers);
              val = xasprintf ("%s%s", h[k].mountpoint, strcmp (own, "/") == 0 ? "" : own);
            }
          runf_criu_add_ext_mount (r->opts, key, val);
        }
    }
  rf_cgroup_hierarchies_free (h, nh);
}

/* Namespaces the container joins by path: net and pid under runc's keys
   (the fds go to criu under their own numbers), the others joined by CRIU
   at the path. */
static int
add_namespaces (restore_t *r, int *ns_fds, size_t *n_ns_fds, rf_error_t *err)
{
  for (size_t i = 0; i < r->spec->n_namespaces; i++)
    {
      const rf_namespace_t *ns = &r->spec->namespaces[i];
      if (ns->path == NULL)
        continue;
      if (ns->flag == CLONE_NEWNET || ns->flag == CLONE_NEWPID)
        {
          int fd = open (ns->path, O_RDONLY | O_CLOEXEC);
          if (fd < 0 || (fd = rf_fd_above (fd, 3, err)) < 0)
            return rf_error_sys (err, "linux.namespaces: `%s`", ns->path);
          ns_fds[(*n_ns_fds)++] = fd;
          runf_criu_add_inherit_fd (r->opts, runf_criu_ns_key (ns->flag), fd);
        }
      else if (ns->flag == CLONE_NEWCGROUP)
        return rf_error_make (err, ENOTSUP, "linux.namespaces: CRIU cannot join a cgroup namespace by path (`%s`)",
                              ns->path);
      else
        runf_criu_add_join_ns (r->opts, rf_namespace_proc_name (ns->flag), ns->path);
    }
  return 0;
}

/* The stdio `checkpoint` recorded: pipes and external files come from this
   process's own fds 0-2.  CRIU hands a file to every fd that had it under
   the same key: when one file was on several of fds 0-2, they all get the
   first fd listed, and stdout and stderr are listed before stdin. */
static int
add_stdio (restore_t *r, int image_fd, rf_error_t *err)
{
  static const int order[] = { 1, 2, 0 };
  cleanup_free char *text = NULL;
  cleanup_json json_t *doc = NULL;
  size_t len;

  if (rf_read_file_at (image_fd, RUNF_CRIU_DESCRIPTORS, 1 << 20, &text, &len, NULL) < 0)
    {
      rf_debug ("restore: no " RUNF_CRIU_DESCRIPTORS ": stdio as CRIU saved it");
      return 0;
    }
  doc = rf_json_load_buffer (RUNF_CRIU_DESCRIPTORS, text, len, err);
  if (doc == NULL)
    return -1;
  if (!json_is_array (doc))
    return rf_error_make (err, 0, RUNF_CRIU_DESCRIPTORS ": expected an array of strings");
  for (size_t i = 0; i < ARRAY_SIZE (order); i++)
    {
      const char *s = json_string_value (json_array_get (doc, (size_t) order[i]));
      if (s == NULL)
        continue;
      /* CRIU opens an external file again and seeks to where it was:
         it can give back only something seekable. */
      if (strncmp (s, "file[", 5) == 0 && lseek (order[i], 0, SEEK_CUR) < 0 && errno == ESPIPE)
        return rf_error_make (err, 0,
                              "fd %d was a file when the container was checkpointed, and is a pipe or a socket here: CRIU can give it back only as a file (redirect fd %d of runf to one)",
                              order[i], order[i]);
      if (strncmp (s, "pipe:", 5) == 0 || strncmp (s, "file[", 5) == 0)
        runf_criu_add_inherit_fd (r->opts, s, order[i]);
    }
  return 0;
}

/* CRIU wants the root as a mount point whose parent is not overmounted:
   the rootfs bound below the state directory. */
static int
mount_root (restore_t *r, rf_error_t *err)
{
  r->criu_root = xasprintf ("%s/criu-root", r->state_dir);
  if (mkdir (r->criu_root, 0700) < 0)
    return rf_error_sys (err, "mkdir `%s`", r->criu_root);
  if (mount (r->rootfs, r->criu_root, NULL, MS_BIND | MS_REC, NULL) < 0)
    return rf_error_sys (err, "bind the rootfs on `%s`", r->criu_root);
  r->root_mounted = true;
  return 0;
}

static void
unmount_root (restore_t *r)
{
  if (r->root_mounted && umount2 (r->criu_root, MNT_DETACH) < 0)
    rf_warn ("unmount `%s`: %s", r->criu_root, strerror (errno));
  r->root_mounted = false;
  if (r->criu_root)
    rmdir (r->criu_root);
}

/* Undo a restore that failed: nothing of the container stays. */
static void
abandon (restore_t *r)
{
  rf_error_t ignored = NULL;
  if (r->pid > 0)
    {
      kill (r->pid, SIGKILL);
      while (waitpid (r->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  unmount_root (r);
  if (r->cgroup.n || r->cgroup.unit)
    rf_cgroup_destroy (&r->cgroup, &ignored);
  rf_error_free (&ignored);
  rf_rdt_remove (r->rdt_dir);
  if (r->state_dir)
    {
      rf_rm_rf (r->state_dir, &ignored);
      rf_error_free (&ignored);
    }
}

static void
restore_clear (restore_t *r)
{
  if (r->pty_master >= 0)
    close (r->pty_master);
  rf_spec_free (r->spec);
  free (r->bundle);
  free (r->rootfs);
  free (r->state_dir);
  free (r->criu_root);
  rf_cgroup_clear (&r->cgroup);
  free (r->rdt_dir);
}

static int
run_restore (restore_t *r, rf_error_t *err)
{
  CriuOpts opts = CRIU_OPTS__INIT;
  runf_criu_call_t call = { 0 };
  cleanup_free char *config_path = NULL;
  cleanup_free char *log_path = NULL;
  cleanup_free char *inventory = NULL;
  cleanup_close int image_fd = -1;
  cleanup_close int work_fd = -1;
  int ns_fds[RF_NAMESPACE_TYPES];
  size_t n_ns_fds = 0;
  int ret = -1;
  pid_t pid;

  r->opts = &opts;
  image_fd = open (r->image_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (image_fd < 0)
    return rf_error_sys (err, "--image-path `%s`", r->image_path);
  if (faccessat (image_fd, "inventory.img", F_OK, 0) < 0)
    return rf_error_make (err, ENOENT, "--image-path `%s`: no checkpoint there (no inventory.img)",
                          r->image_path);
  if (r->work_path)
    {
      if (mkdir (r->work_path, 0700) < 0 && errno != EEXIST)
        return rf_error_sys (err, "--work-path `%s`", r->work_path);
      work_fd = open (r->work_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (work_fd < 0)
        return rf_error_sys (err, "--work-path `%s`", r->work_path);
      opts.has_work_dir_fd = true;
      opts.work_dir_fd = work_fd;
      log_path = xasprintf ("%s/restore.log", r->work_path);
    }
  else
    log_path = xasprintf ("%s/restore.log", r->image_path);
  if (add_stdio (r, image_fd, err) < 0 || add_namespaces (r, ns_fds, &n_ns_fds, err) < 0)
    goto out;

  /* From here on the container exists: abandon() takes it back. */
  if (rf_mkdir_p (r->g->root, 0700, err) < 0)
    {
      rf_error_wrap (err, "state directory");
      goto out;
    }
  r->state_dir = rf_state_dir (r->g->root, r->id);
  if (mkdir (r->state_dir, 0700) < 0)
    {
      int saved = errno;
      free (r->state_dir);
      r->state_dir = NULL; /* not ours: never remove it */
      if (saved == EEXIST)
        rf_error_make (err, EEXIST, "container `%s` already exists", r->id);
      else
        {
          errno = saved;
          rf_error_sys (err, "create the state directory of `%s`", r->id);
        }
      goto out;
    }
  config_path = xasprintf ("%s/config.json", r->state_dir);
  if (json_dump_file (r->spec->raw, config_path, JSON_COMPACT) != 0)
    {
      rf_error_sys (err, "write `%s`", config_path);
      goto fail;
    }
  r->via_systemd = r->g->systemd_cgroup && rf_systemd_booted_p ();
  if ((r->via_systemd ? rf_cgroup_systemd_check (r->spec, r->id, false, err)
                      : rf_cgroup_create (&r->cgroup, r->spec, r->id, false, false, NULL, err)) < 0
      || mount_root (r, err) < 0)
    goto fail;

  opts.images_dir_fd = image_fd;
  opts.root = r->criu_root;
  opts.log_file = (char *) "restore.log";
  opts.has_log_level = true;
  opts.log_level = 4;
  opts.has_rst_sibling = true;
  opts.rst_sibling = true;
  opts.has_evasive_devices = true;
  opts.evasive_devices = true;
  opts.has_notify_scripts = true;
  opts.notify_scripts = true;
  opts.has_manage_cgroups = true;
  opts.manage_cgroups = true;
  opts.has_manage_cgroups_mode = true;
  opts.manage_cgroups_mode = r->has_cg_mode ? r->cg_mode : CRIU_CG_MODE__DEFAULT;
  opts.has_tcp_established = true;
  opts.tcp_established = r->tcp_established;
  opts.has_tcp_close = r->tcp_close;
  opts.tcp_close = r->tcp_close;
  opts.has_ext_unix_sk = true;
  opts.ext_unix_sk = r->ext_unix_sk;
  opts.has_shell_job = true;
  opts.shell_job = r->shell_job;
  opts.has_file_locks = true;
  opts.file_locks = r->file_locks;
  opts.has_auto_dedup = true;
  opts.auto_dedup = r->auto_dedup;
  opts.has_orphan_pts_master = true;
  opts.orphan_pts_master = true;
  if (r->empty_ns)
    {
      opts.has_empty_ns = true;
      opts.empty_ns = r->empty_ns;
    }
  opts.lsm_profile = (char *) r->lsm_profile;
  opts.lsm_mount_context = (char *) r->lsm_mount_context;
  opts.config_file = (char *) runf_criu_config_file (r->spec);
  add_external_mounts (r);

  call.binary = r->g->criu;
  call.log_path = log_path;
  call.keep_fds = ns_fds;
  call.n_keep_fds = n_ns_fds;
  call.started = on_started;
  call.notify = on_notify;
  call.data = r;
  if (runf_criu_request (&call, CRIU_REQ_TYPE__RESTORE, &opts, &pid, err) < 0)
    goto fail;
  if (r->pid == 0)
    r->pid = pid;
  unmount_root (r);
  if (rf_rdt_apply (r->spec, r->id, r->pid, &r->rdt_dir, err) < 0)
    goto fail;
  if ((!r->state_written || r->rdt_dir) && write_state (r, err) < 0)
    goto fail;
  if (r->pid_file && rf_write_pid_file (r->pid_file, r->pid, err) < 0)
    goto fail;
  ret = 0;
  goto out;

fail:
  abandon (r);
out:
  for (size_t i = 0; i < n_ns_fds; i++)
    close (ns_fds[i]);
  runf_criu_opts_clear (&opts);
  r->opts = NULL;
  return ret;
}

int
runf_cmd_restore (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  restore_t r;
  cleanup_close int sfd = -1;
  cleanup_close int pidfd = -1;
  bool help;
  int ret = -1;

  memset (&r, 0, sizeof r);
  r.g = g;
  r.pty_master = -1;
  if (parse_args (argc, argv, &r, &help, err) < 0)
    return -1;
  if (help)
    return rf_error_make (err, RUNF_HELP_REQUESTED, "help");
  if (g->rootless)
    return rf_error_make (err, EPERM, "restore `%s`: not supported rootless (CRIU needs root on the host)", r.id);
  r.bundle = realpath (r.bundle_arg ? r.bundle_arg : ".", NULL);
  if (r.bundle == NULL)
    {
      rf_error_sys (err, "restore `%s`: bundle `%s`", r.id, r.bundle_arg ? r.bundle_arg : ".");
      goto out;
    }
  {
    cleanup_free char *config = xasprintf ("%s/config.json", r.bundle);
    r.spec = rf_spec_load_file (config, err);
  }
  if (r.spec == NULL || resolve_rootfs (&r, err) < 0)
    {
      rf_error_wrap (err, "restore `%s`", r.id);
      goto out;
    }
  if (r.spec->process.terminal && r.console_socket == NULL && r.detach)
    {
      rf_error_make (err, 0, "restore `%s`: process.terminal: a detached container needs --console-socket", r.id);
      goto out;
    }
  if (r.console_socket && !r.spec->process.terminal)
    rf_debug ("restore: --console-socket without process.terminal: nothing to send");

  /* Signals wait while the container is half made (a killed runf would
     leave its root mounted); without --detach runf forwards them after. */
  sfd = runf_signals_block (err);
  if (sfd < 0)
    goto out;
  if (!r.detach && !r.no_subreaper && prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    {
      rf_error_sys (err, "restore `%s`: become a subreaper", r.id);
      goto out;
    }
  if (run_restore (&r, err) < 0)
    {
      rf_error_wrap (err, "restore `%s`", r.id);
      goto out;
    }
  if (r.detach)
    {
      ret = 0;
      goto out;
    }
  pidfd = rf_pidfd_open (r.pid);
  if (r.pty_master >= 0 && rf_terminal_relay_open (r.pty_master, err) < 0)
    {
      rf_error_t ignored = NULL;
      kill (r.pid, SIGKILL);
      rf_container_remove_state (g->root, r.id, &ignored);
      rf_error_free (&ignored);
      goto out;
    }
  ret = runf_supervise (r.pid, pidfd, r.pty_master, sfd, err);
  rf_terminal_restore ();
  {
    rf_error_t ignored = NULL;
    if (rf_container_remove_state (g->root, r.id, &ignored) < 0)
      {
        cleanup_free char *text = rf_error_text (ignored);
        rf_warn ("remove the state of `%s`: %s", r.id, text);
      }
    rf_error_free (&ignored);
  }

out:
  restore_clear (&r);
  return ret;
}
