/* `runf checkpoint ID`: save the processes of a running container with
 * CRIU, taking runc's flags.  Unless --leave-running or --pre-dump, the
 * container is deleted afterwards as runc does; `runf restore` makes it
 * again from the images. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "criu.h"
#include "runf.h"
#include "runtime/container.h"
#include "runtime/state.h"

enum
{
  O_IMAGE_PATH = 1,
  O_WORK_PATH,
  O_PARENT_PATH,
  O_LEAVE_RUNNING,
  O_TCP_ESTABLISHED,
  O_TCP_SKIP_IN_FLIGHT,
  O_LINK_REMAP,
  O_EXT_UNIX_SK,
  O_SHELL_JOB,
  O_LAZY_PAGES,
  O_STATUS_FD,
  O_PAGE_SERVER,
  O_FILE_LOCKS,
  O_PRE_DUMP,
  O_MANAGE_CGROUPS_MODE,
  O_EMPTY_NS,
  O_AUTO_DEDUP,
  O_HELP,
};

static const runf_option_t checkpoint_options[] = {
  { "image-path", 0, true, O_IMAGE_PATH },
  { "work-path", 0, true, O_WORK_PATH },
  { "parent-path", 0, true, O_PARENT_PATH },
  { "leave-running", 0, false, O_LEAVE_RUNNING },
  { "tcp-established", 0, false, O_TCP_ESTABLISHED },
  { "tcp-skip-in-flight", 0, false, O_TCP_SKIP_IN_FLIGHT },
  { "link-remap", 0, false, O_LINK_REMAP },
  { "ext-unix-sk", 0, false, O_EXT_UNIX_SK },
  { "shell-job", 0, false, O_SHELL_JOB },
  { "lazy-pages", 0, false, O_LAZY_PAGES },
  { "status-fd", 0, true, O_STATUS_FD },
  { "page-server", 0, true, O_PAGE_SERVER },
  { "file-locks", 0, false, O_FILE_LOCKS },
  { "pre-dump", 0, false, O_PRE_DUMP },
  { "manage-cgroups-mode", 0, true, O_MANAGE_CGROUPS_MODE },
  { "empty-ns", 0, true, O_EMPTY_NS },
  { "auto-dedup", 0, false, O_AUTO_DEDUP },
  { "help", 'h', false, O_HELP },
  { 0 },
};

typedef struct
{
  const char *image_path;
  const char *work_path;
  const char *parent_path;
  const char *page_server;
  int page_server_port;
  bool leave_running, tcp_established, tcp_skip_in_flight, link_remap, ext_unix_sk;
  bool shell_job, file_locks, pre_dump, auto_dedup;
  bool has_cg_mode;
  CriuCgMode cg_mode;
  uint32_t empty_ns;
} checkpoint_args_t;

static int
check_page_server (const char *value, int *port, rf_error_t *err)
{
  const char *colon = strrchr (value, ':');
  if (colon == NULL || colon == value)
    return rf_error_make (err, 0, "checkpoint --page-server `%s`: expected ADDRESS:PORT", value);
  return runf_parse_int ("checkpoint --page-server port", colon + 1, 1, 65535, port, err);
}

static int
parse_args (int argc, char **argv, checkpoint_args_t *a, const char **id, bool *help,
            rf_error_t *err)
{
  const char *value;
  int index = 1, opt;

  memset (a, 0, sizeof *a);
  *help = false;
  a->image_path = "checkpoint";
  while ((opt = runf_next_option (argc, argv, &index, checkpoint_options, &value, err)) > 0)
    {
      bool on = value && strcmp (value, "true") == 0;
      switch (opt)
        {
        case O_IMAGE_PATH: a->image_path = value; break;
        case O_WORK_PATH: a->work_path = value; break;
        case O_PARENT_PATH: a->parent_path = value; break;
        case O_LEAVE_RUNNING: a->leave_running = on; break;
        case O_TCP_ESTABLISHED: a->tcp_established = on; break;
        case O_TCP_SKIP_IN_FLIGHT: a->tcp_skip_in_flight = on; break;
        case O_LINK_REMAP: a->link_remap = on; break;
        case O_EXT_UNIX_SK: a->ext_unix_sk = on; break;
        case O_SHELL_JOB: a->shell_job = on; break;
        case O_FILE_LOCKS: a->file_locks = on; break;
        case O_PRE_DUMP: a->pre_dump = on; break;
        case O_AUTO_DEDUP: a->auto_dedup = on; break;
        case O_PAGE_SERVER:
          if (check_page_server (value, &a->page_server_port, err) < 0)
            return -1;
          a->page_server = value;
          break;
        case O_LAZY_PAGES:
          if (on)
            return rf_error_make (err, ENOTSUP, "checkpoint --lazy-pages: runf does not support CRIU's lazy migration");
          break;
        case O_STATUS_FD:
          return rf_error_make (err, ENOTSUP, "checkpoint --status-fd: only for --lazy-pages, which runf does not support");
        case O_MANAGE_CGROUPS_MODE:
          if (runf_criu_cg_mode (value, &a->cg_mode, err) < 0)
            return -1;
          a->has_cg_mode = true;
          break;
        case O_EMPTY_NS:
          if (runf_criu_empty_ns (value, &a->empty_ns, err) < 0)
            return -1;
          break;
        case O_HELP: *help = true; return 0;
        default: break;
        }
    }
  if (opt < 0)
    return -1;
  if (index >= argc)
    return rf_error_make (err, 0, "checkpoint: missing container id");
  if (index + 1 < argc)
    return rf_error_make (err, 0, "checkpoint: unexpected argument `%s`", argv[index + 1]);
  if (a->parent_path && a->parent_path[0] == '/')
    return rf_error_make (err, 0, "checkpoint --parent-path `%s`: must be relative to --image-path, as CRIU wants it",
                          a->parent_path);
  if (a->pre_dump && a->leave_running)
    rf_debug ("--leave-running goes without saying with --pre-dump");
  *id = argv[index];
  return rf_id_check (*id, err);
}

/* Bind mounts of something the container's mount namespace does not hold
   itself are CRIU's "external" mounts (runf_criu_external_mounts): it
   cannot save what they show, and needs to be told the mountpoint is
   expected, under a key that `restore` maps to a host path again.  The
   key is the mountpoint, as runc makes it. */
static void
add_external_mounts (CriuOpts *opts, pid_t pid)
{
  cleanup_free char *path = xasprintf ("/proc/%d/mountinfo", (int) pid);
  cleanup_free char *text = NULL;
  cleanup_strv char **mounts = NULL;

  if (rf_read_file_at (AT_FDCWD, path, 0, &text, NULL, NULL) < 0)
    return;
  mounts = runf_criu_external_mounts (text);
  for (size_t i = 0; mounts[i]; i++)
    {
      rf_debug ("checkpoint: `%s` is an external mount", mounts[i]);
      runf_criu_add_ext_mount (opts, mounts[i], mounts[i]);
    }
}

static bool
mount_id_in (const char *mountinfo, int mnt_id)
{
  char want[32];
  const char *p = mountinfo;
  size_t len = (size_t) snprintf (want, sizeof want, "%d ", mnt_id);
  while (p && *p)
    {
      if (strncmp (p, want, len) == 0)
        return true;
      p = strchr (p, '\n');
      if (p)
        p++;
    }
  return false;
}

static int
fd_mount_id (pid_t pid, int fd)
{
  cleanup_free char *path = xasprintf ("/proc/%d/fdinfo/%d", (int) pid, fd);
  cleanup_free char *text = NULL;
  const char *p;
  if (rf_read_file_at (AT_FDCWD, path, 0, &text, NULL, NULL) < 0)
    return -1;
  p = strstr (text, "mnt_id:");
  return p ? atoi (p + 7) : -1;
}

/* The container's stdio as CRIU will need it back (runc's descriptors.json,
   which `restore` reads): "pipe:[N]" for pipes, which restore connects to
   its own stdio; files the container's mount namespace cannot reach (the
   caller's /dev/null, a log file) are declared external as
   "file[mnt:inode]" and handed over the same way; anything else (a
   terminal, a socket) is CRIU's to save. */
static int
describe_stdio (CriuOpts *opts, pid_t pid, const char *image_dir, rf_error_t *err)
{
  cleanup_free char *mountinfo_path = xasprintf ("/proc/%d/mountinfo", (int) pid);
  cleanup_free char *mountinfo = NULL;
  cleanup_json json_t *list = json_array ();
  cleanup_free char *text = NULL;
  cleanup_free char *out = NULL;

  if (rf_read_file_at (AT_FDCWD, mountinfo_path, 0, &mountinfo, NULL, NULL) < 0)
    mountinfo = xstrdup ("");
  for (int fd = 0; fd < 3; fd++)
    {
      cleanup_free char *path = xasprintf ("/proc/%d/fd/%d", (int) pid, fd);
      char link[4096];
      ssize_t len = readlink (path, link, sizeof link - 1);
      struct stat st;
      bool tty;
      int mnt;

      if (len < 0)
        {
          json_array_append_new (list, json_string (""));
          continue;
        }
      link[len] = '\0';
      tty = stat (path, &st) == 0 && S_ISCHR (st.st_mode)
            && (major (st.st_rdev) == 4 || major (st.st_rdev) == 5
                || (major (st.st_rdev) >= 136 && major (st.st_rdev) <= 143));
      if (link[0] == '/' && !tty && (mnt = fd_mount_id (pid, fd)) >= 0
          && !mount_id_in (mountinfo, mnt))
        {
          cleanup_free char *key = xasprintf ("file[%x:%llx]", (unsigned) mnt,
                                              (unsigned long long) st.st_ino);
          bool seen = false;
          for (size_t i = 0; i < opts->n_external; i++)
            seen = seen || strcmp (opts->external[i], key) == 0;
          if (!seen)
            runf_criu_add_external (opts, key);
          json_array_append_new (list, json_string (key));
        }
      else
        json_array_append_new (list, json_string (link));
    }
  text = json_dumps (list, JSON_COMPACT);
  out = xasprintf ("%s/" RUNF_CRIU_DESCRIPTORS, image_dir);
  return rf_write_file_atomic (out, text, strlen (text), 0600, err);
}

/* Namespaces the container joined by path are not its own to save: CRIU
   records them as external (under runc's keys), and restore passes the
   namespace it finds at the path then.  Only net and pid have such keys. */
static int
add_external_namespaces (CriuOpts *opts, const rf_spec_t *spec, rf_error_t *err)
{
  static const int flags[] = { CLONE_NEWNET, CLONE_NEWPID };
  for (size_t i = 0; i < ARRAY_SIZE (flags); i++)
    {
      const rf_namespace_t *ns = rf_spec_namespace (spec, flags[i]);
      struct stat st;
      cleanup_free char *spec_text = NULL;
      if (ns == NULL || ns->path == NULL)
        continue;
      if (stat (ns->path, &st) < 0)
        return rf_error_sys (err, "linux.namespaces: `%s`", ns->path);
      spec_text = xasprintf ("%s[%llu]:%s", rf_namespace_proc_name (flags[i]),
                             (unsigned long long) st.st_ino, runf_criu_ns_key (flags[i]));
      runf_criu_add_external (opts, spec_text);
    }
  return 0;
}

static const char *
freezer_dir (const rf_cgroup_t *cg)
{
  const rf_cgroup_dir_t *d = rf_cgroup_find (cg, "freezer");
  if (d)
    return d->dir;
  for (size_t i = 0; i < cg->n; i++)
    if (cg->dirs[i].v2 && rf_cgroup_has_file (cg->dirs[i].dir, "cgroup.freeze"))
      return cg->dirs[i].dir;
  return NULL;
}

/* What a failed dump leaves: CRIU's log stays (the error line names it),
   images that did not make a checkpoint go, and so does a directory that
   runf made and that holds nothing else. */
static void
discard_images (const char *dir, bool made_dir, const char *log_path)
{
  rf_error_t ignored = NULL;
  size_t len = strlen (dir);
  bool log_inside = strncmp (log_path, dir, len) == 0 && log_path[len] == '/'
                    && access (log_path, F_OK) == 0;
  if (made_dir && !log_inside)
    rf_rm_rf (dir, &ignored);
  else
    {
      cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      DIR *d = dfd >= 0 ? fdopendir (dup (dfd)) : NULL;
      struct dirent *de;
      while (d && (de = readdir (d)) != NULL)
        {
          if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0
              || strcmp (de->d_name, "dump.log") == 0)
            continue;
          rf_rm_rf_at (dfd, de->d_name, &ignored);
        }
      if (d)
        closedir (d);
    }
  rf_error_free (&ignored);
}

static bool
dir_empty_p (const char *path)
{
  DIR *d = opendir (path);
  struct dirent *de;
  bool empty = true;
  if (d == NULL)
    return false;
  while (empty && (de = readdir (d)) != NULL)
    empty = strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0;
  closedir (d);
  return empty;
}

int
runf_cmd_checkpoint (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  checkpoint_args_t a;
  CriuOpts opts = CRIU_OPTS__INIT;
  runf_criu_call_t call = { 0 };
  cleanup_free char *dir = NULL;
  cleanup_free char *image_dir = NULL;
  cleanup_free char *log_path = NULL;
  cleanup_close int lock = -1;
  cleanup_close int image_fd = -1;
  cleanup_close int work_fd = -1;
  rf_spec_t *spec = NULL;
  const char *id = NULL, *freezer;
  bool help, made_image_dir = false, image_dir_was_empty = false;
  rf_state_t st;
  rf_status_t status;
  int r = -1;

  if (parse_args (argc, argv, &a, &id, &help, err) < 0)
    return -1;
  if (help)
    return rf_error_make (err, RUNF_HELP_REQUESTED, "help");
  if (g->rootless)
    return rf_error_make (err, EPERM, "checkpoint `%s`: not supported rootless (CRIU needs root on the host)", id);
  if (rf_state_read (g->root, id, &st, err) < 0)
    {
      rf_state_clear (&st);
      return -1;
    }
  dir = rf_state_dir (g->root, id);
  lock = rf_state_lock (dir, err);
  if (lock < 0)
    goto out;
  status = rf_state_status (g->root, &st);
  if (status != RF_STATUS_RUNNING && status != RF_STATUS_PAUSED)
    {
      rf_error_make (err, 0, "checkpoint `%s`: the container is %s, not running", id,
                     rf_status_name (status));
      goto out;
    }
  spec = rf_container_load_spec (g->root, id, err);
  if (spec == NULL)
    goto out;
  if (a.pre_dump || a.parent_path)
    {
      /* As runc does, asked before anything is written: CRIU's own
         answer would name its --track-mem, not runf's flags. */
      bool mem_track;
      if (runf_criu_mem_track (g->criu, &mem_track, err) < 0)
        {
          rf_error_wrap (err, "checkpoint `%s`", id);
          goto out;
        }
      if (!mem_track)
        {
          rf_error_make (err, ENOTSUP, "checkpoint `%s`: --pre-dump and --parent-path need CRIU to track memory changes, which this kernel cannot (no soft-dirty bits)", id);
          goto out;
        }
    }

  if (mkdir (a.image_path, 0700) == 0)
    made_image_dir = true;
  else if (errno != EEXIST)
    {
      rf_error_sys (err, "checkpoint `%s`: --image-path `%s`", id, a.image_path);
      goto out;
    }
  image_dir = realpath (a.image_path, NULL);
  image_fd = image_dir ? open (image_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (image_fd < 0)
    {
      rf_error_sys (err, "checkpoint `%s`: --image-path `%s`", id, a.image_path);
      goto out;
    }
  image_dir_was_empty = made_image_dir || dir_empty_p (image_dir);
  if (a.work_path)
    {
      if (mkdir (a.work_path, 0700) < 0 && errno != EEXIST)
        {
          rf_error_sys (err, "checkpoint `%s`: --work-path `%s`", id, a.work_path);
          goto out;
        }
      work_fd = open (a.work_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (work_fd < 0)
        {
          rf_error_sys (err, "checkpoint `%s`: --work-path `%s`", id, a.work_path);
          goto out;
        }
      opts.has_work_dir_fd = true;
      opts.work_dir_fd = work_fd;
      {
        cleanup_free char *work_dir = realpath (a.work_path, NULL);
        log_path = xasprintf ("%s/dump.log", work_dir ? work_dir : a.work_path);
      }
    }
  else
    log_path = xasprintf ("%s/dump.log", image_dir);

  opts.images_dir_fd = image_fd;
  opts.has_pid = true;
  opts.pid = st.pid;
  opts.root = st.rootfs;
  opts.log_file = (char *) "dump.log";
  opts.has_log_level = true;
  opts.log_level = 4;
  opts.has_manage_cgroups = true;
  opts.manage_cgroups = true;
  opts.has_manage_cgroups_mode = true;
  opts.manage_cgroups_mode = a.has_cg_mode ? a.cg_mode : CRIU_CG_MODE__DEFAULT;
  opts.has_leave_running = true;
  opts.leave_running = a.leave_running;
  opts.has_tcp_established = true;
  opts.tcp_established = a.tcp_established;
  opts.has_tcp_skip_in_flight = true;
  opts.tcp_skip_in_flight = a.tcp_skip_in_flight;
  opts.has_link_remap = true;
  opts.link_remap = a.link_remap;
  opts.has_ext_unix_sk = true;
  opts.ext_unix_sk = a.ext_unix_sk;
  opts.has_shell_job = true;
  opts.shell_job = a.shell_job;
  opts.has_file_locks = true;
  opts.file_locks = a.file_locks;
  opts.has_auto_dedup = true;
  opts.auto_dedup = a.auto_dedup;
  opts.has_orphan_pts_master = true;
  opts.orphan_pts_master = true;
  if (a.empty_ns)
    {
      opts.has_empty_ns = true;
      opts.empty_ns = a.empty_ns;
    }
  if (a.parent_path || a.pre_dump)
    {
      /* Later dumps find only the pages that changed since this one. */
      opts.has_track_mem = true;
      opts.track_mem = true;
      opts.parent_img = (char *) a.parent_path;
    }
  if (a.page_server)
    {
      opts.ps = xmalloc (sizeof *opts.ps);
      criu_page_server_info__init (opts.ps);
      opts.ps->address = xstrndup (a.page_server, (size_t) (strrchr (a.page_server, ':') - a.page_server));
      opts.ps->has_port = true;
      opts.ps->port = a.page_server_port;
    }
  opts.config_file = (char *) runf_criu_config_file (spec);
  /* With the freezer, CRIU stops every task at once, also those forking
     meanwhile; without it, it seizes them one by one. */
  freezer = freezer_dir (&st.cgroup);
  opts.freeze_cgroup = (char *) freezer;
  if (add_external_namespaces (&opts, spec, err) < 0)
    goto out;
  if (!a.pre_dump)
    {
      add_external_mounts (&opts, st.pid);
      if (describe_stdio (&opts, st.pid, image_dir, err) < 0)
        goto out;
    }

  call.binary = g->criu;
  call.log_path = log_path;
  rf_debug ("checkpoint `%s`: pid %d into %s", id, (int) st.pid, image_dir);
  if (runf_criu_request (&call, a.pre_dump ? CRIU_REQ_TYPE__PRE_DUMP : CRIU_REQ_TYPE__DUMP, &opts,
                         NULL, err) < 0)
    {
      if (image_dir_was_empty)
        discard_images (image_dir, made_image_dir, log_path);
      rf_error_wrap (err, "checkpoint `%s`", id);
      goto out;
    }
  r = 0;
  if (!a.leave_running && !a.pre_dump)
    {
      /* CRIU has ended the processes; as with runc, the container goes
         too (its cgroup, its state), and the images are what is left. */
      close (lock);
      lock = -1;
      if (rf_container_delete (g->root, id, true, err) < 0)
        r = rf_error_wrap (err, "checkpoint `%s`: delete the checkpointed container", id);
    }

out:
  if (opts.ps)
    {
      free (opts.ps->address);
      free (opts.ps);
    }
  runf_criu_opts_clear (&opts);
  rf_spec_free (spec);
  rf_state_clear (&st);
  return r;
}
