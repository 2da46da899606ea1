/* runfd: the function daemon (see runfd.h for the architecture). */
#include <arpa/inet.h>
#include <net/if.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/units.h"
#include "image/store.h"
#include "runfd.h"
#include "runtime/cgroup.h"
#include "common/userns_probe.h"

rfd_config_t rfd_config;

static rfd_watch_t signal_w = { .fd = -1 };
static rfd_timer_t drain_timer;

static void
usage (FILE *out)
{
  fprintf (out,
           "usage: runfd [options]\n\n"
           "The runf function daemon: deploy images as functions, every request in a fresh container.\n\n"
           "  --state DIR            persistent state (functions, logs, api.token); its run/ holds sockets\n"
           "                         default /var/lib/runfd and /run/runfd as root,\n"
           "                         $XDG_DATA_HOME/runfd and $XDG_RUNTIME_DIR/runfd rootless\n"
           "  --api unix:PATH|tcp:127.0.0.1:PORT   the admin API (default unix:<run>/api.sock;\n"
           "                         a socket systemd passes, runfd.socket's, comes first)\n"
           "  --gateway ADDR:PORT    the shared gateway, /function/NAME/... (default 127.0.0.1:8080; none)\n"
           "  --addr-range CIDR      the functions' addresses (default 127.77.0.0/16)\n"
           "  --port N               the functions' port (default 80 as root, 8080 rootless)\n"
           "  --store DIR            the image store (runfctl image's)\n"
           "  --uid-range BASE:SIZE  host ids for the instances' users (root only; default 1000000000:65536)\n"
           "  --shim PATH            the stdio-mode shim (default: runf-shim beside runfd,\n"
           "                         else ../lib/runf/runf-shim)\n"
           "  --request-timeout S    seconds (or a duration: 2.5s, 500ms) a client has to send its\n"
           "                         request head (default 10); on the API also the longest pause\n"
           "                         in a body, and the time it has to take an answer\n"
           "  --log-max SIZE         rotate a function's log at this size, keeping one old\n"
           "                         file NAME.log.1 (default 10m; 0: never)\n"
           "  --max-instances N      instances serving requests at once, all functions together\n"
           "                         (default: the memory's size / 256m, 16 to 1024)\n"
           "  --pool-budget N        instances made ahead of their requests (created, or pre-started\n"
           "                         and waiting), all functions together (default 256)\n"
           "  --spawners N           processes that create the instances, 1 to 256 (default: two per\n"
           "                         CPU runfd may run on, 2 to 64)\n"
           "  --network MODE         a function's network when its deploy names none: none (default),\n"
           "                         isolated or host (docs/functions.md, Networks)\n"
           "  --bridge NAME          isolated functions' bridge (default runf-<6 hex digits of --state>)\n"
           "  --bridge-range CIDR    their addresses (default 10.88.<a byte of --state>.0/24)\n"
           "  --uplink IFACE         where their traffic leaves, NATed (default: the default route's)\n"
           "  --dns ADDR             their resolver; repeat for more (default: the host's, unless on\n"
           "                         its loopback, which they cannot reach)\n"
           "  --debug  --log FILE\n");
}

/* Isolated networks: this daemon's bridge and range, unless given, come
   from its state directory's key (as its cgroups do), so that daemons of
   different state directories do not share them; the resolvers are the
   host's that a function's namespace can reach. */
static int
network_defaults (const char *range, rf_error_t *err)
{
  const char *key = strrchr (rfd_config.cgroup_parent, '/') + 1;
  cleanup_free char *copy = NULL;
  char *slash;
  int bits;
  struct in_addr base;

  if (rfd_config.bridge == NULL)
    rfd_config.bridge = xasprintf ("runf-%.6s", key);
  if (range == NULL)
    copy = xasprintf ("10.88.%lu.0/24", strtoul (key, NULL, 16) & 0xff);
  else
    copy = xstrdup (range);
  slash = strchr (copy, '/');
  if (slash == NULL || (bits = atoi (slash + 1)) < 8 || bits > 29)
    return rf_error_make (err, 0, "--bridge-range `%s`: expected A.B.C.D/N with N in 8..29", copy);
  *slash = '\0';
  if (inet_pton (AF_INET, copy, &base) != 1)
    return rf_error_make (err, 0, "--bridge-range `%s`: not an IPv4 range", range);
  rfd_config.bridge_base.s_addr = htonl (ntohl (base.s_addr) & ~((1u << (32 - bits)) - 1));
  rfd_config.bridge_size = 1u << (32 - bits);
  if (rfd_config.dns == NULL)
    {
      cleanup_fclose FILE *f = fopen ("/etc/resolv.conf", "re");
      char line[256];
      size_t n = 0;
      while (f && fgets (line, sizeof line, f))
        {
          char addr[64];
          struct in_addr a;
          if (sscanf (line, "nameserver %63s", addr) != 1 || inet_pton (AF_INET, addr, &a) != 1
              || (ntohl (a.s_addr) >> 24) == 127)
            continue;
          rfd_config.dns = xrealloc (rfd_config.dns, (n + 2) * sizeof (char *));
          rfd_config.dns[n++] = xstrdup (addr);
          rfd_config.dns[n] = NULL;
        }
    }
  return 0;
}

static int
parse_cidr (const char *s, struct in_addr *base, uint32_t *size, rf_error_t *err)
{
  cleanup_free char *copy = xstrdup (s);
  char *slash = strchr (copy, '/');
  int bits;
  if (slash == NULL || (bits = atoi (slash + 1)) < 8 || bits > 30)
    return rf_error_make (err, 0, "--addr-range `%s`: expected A.B.C.D/N with N in 8..30", s);
  *slash = '\0';
  if (inet_pton (AF_INET, copy, base) != 1 || (ntohl (base->s_addr) >> 24) != 127)
    return rf_error_make (err, 0, "--addr-range `%s`: must be inside 127.0.0.0/8 (loopback)", s);
  base->s_addr = htonl (ntohl (base->s_addr) & ~((1u << (32 - bits)) - 1));
  *size = 1u << (32 - bits);
  return 0;
}

/* What a crash may have left: the runtime directory's functions and
   uploads, and instance cgroups (processes died with the spawner). */
static void
sweep (void)
{
  rf_error_t err = NULL;
  cleanup_free char *fn_dir = xasprintf ("%s/fn", rfd_config.run_dir);
  size_t nh;
  rf_hierarchy_t *h = rf_cgroup_hierarchies (&nh);
  DIR *d;
  struct dirent *de;

  rf_rm_rf (fn_dir, &err);
  rf_error_free (&err);
  {
    cleanup_free char *sock_dir = xasprintf ("%s/sock", rfd_config.run_dir);
    cleanup_free char *uploads = xasprintf ("%s/uploads", rfd_config.run_dir);
    rf_rm_rf (sock_dir, NULL);
    rf_rm_rf (uploads, NULL);
    rfd_secrets_sweep ();
  }
  if ((d = opendir (rfd_config.run_dir)) != NULL)
    {
      /* Uploads of runfd before 0.x sat in the run directory itself. */
      while ((de = readdir (d)) != NULL)
        if (strncmp (de->d_name, "upload-", 7) == 0)
          unlinkat (dirfd (d), de->d_name, 0);
      closedir (d);
    }
  for (size_t i = 0; i < nh; i++)
    {
      cleanup_free char *parent = xasprintf ("%s/%s", h[i].mountpoint, rfd_config.cgroup_parent);
      DIR *cd = opendir (parent);
      if (cd == NULL)
        continue;
      while ((de = readdir (cd)) != NULL)
        {
          cleanup_free char *dir = NULL;
          cleanup_free char *procs = NULL;
          char *text = NULL;
          if (de->d_name[0] == '.' || de->d_type != DT_DIR)
            continue;
          dir = xasprintf ("%s/%s", parent, de->d_name);
          procs = xasprintf ("%s/cgroup.procs", dir);
          if (rf_read_file_at (AT_FDCWD, procs, 0, &text, NULL, NULL) == 0)
            {
              char *save = NULL;
              for (char *t = strtok_r (text, "\n", &save); t; t = strtok_r (NULL, "\n", &save))
                kill (atoi (t), SIGKILL);
              free (text);
            }
          for (int tries = 0; rmdir (dir) < 0 && errno == EBUSY && tries < 1000; tries++)
            usleep (1000);
        }
      closedir (cd);
    }
  rf_cgroup_hierarchies_free (h, nh);
}

/* This daemon's cgroups, and runfd/ when no other daemon has any: gone
   when it stops. */
static void
remove_cgroup_parent (void)
{
  size_t nh;
  rf_hierarchy_t *h = rf_cgroup_hierarchies (&nh);
  for (size_t i = 0; i < nh; i++)
    {
      cleanup_free char *dir = xasprintf ("%s/%s", h[i].mountpoint, rfd_config.cgroup_parent);
      cleanup_free char *spawners = xasprintf ("%s/spawners", dir);
      cleanup_free char *top = xasprintf ("%s/runfd", h[i].mountpoint);
      rmdir (spawners);
      rmdir (dir);
      rmdir (top);
    }
  rf_cgroup_hierarchies_free (h, nh);
}

/* Instances' cgroups go below runfd/<key>, the key a hash of the state
   directory: daemons of other state directories (other users, tests)
   keep theirs, and a restarted daemon finds what its crash left. */
static char *
cgroup_parent_for (const char *state_dir)
{
  uint32_t h = 2166136261u; /* FNV-1a */
  for (const char *p = state_dir; *p; p++)
    h = (h ^ (unsigned char) *p) * 16777619u;
  return xasprintf ("runfd/%08x", h);
}

#define DRAIN_MAX (30 * RFD_S)
static uint64_t drain_started;

static void
finish_drain (rfd_timer_t *t)
{
  int busy = 0;
  for (rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    if (fn->mode != RFD_MODE_WARM)
      busy += fn->n_running + fn->n_queued;
  if (busy && rfd_now () - drain_started < DRAIN_MAX)
    {
      rfd_timer_arm (t, 50 * RFD_MS);
      return;
    }
  if (busy)
    rf_log (RF_LOG_WARN, "drained for %llu s: %d requests still in flight are cut off",
            (unsigned long long) (DRAIN_MAX / RFD_S), busy);
  rfd_loop_stop ();
}

/* SIGTERM: refuse new connections (every listener closes), let requests in
   flight finish (up to their timeouts, 30 s at most), then stop
   everything.  A second SIGTERM stops at once. */
static void
on_signal (rfd_watch_t *w, uint32_t events)
{
  struct signalfd_siginfo si;
  while (read (w->fd, &si, sizeof si) == sizeof si)
    {
      if (si.ssi_signo != SIGTERM && si.ssi_signo != SIGINT)
        continue;
      if (rfd_config.draining)
        {
          rfd_loop_stop ();
          return;
        }
      rf_log (RF_LOG_INFO, "draining: no new connections, waiting for requests in flight");
      rfd_config.draining = true;
      drain_started = rfd_now ();
      rfd_gateway_close ();
      rfd_api_close ();
      for (rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
        {
          rfd_watch_close (&fn->listen_w);
          rfd_watch_close (&fn->control_w);
          rfd_pool_drain (fn);
        }
      rfd_timer_init (&drain_timer, finish_drain, NULL);
      finish_drain (&drain_timer);
    }
}

/* As root, instances run as host ids of their own user namespace: every
   directory on the way to the store's rootfs and to run/fn/ must be
   searchable by others, or every request fails later with EACCES.  Say so
   once, at startup, naming the directory.  The path's missing tail is
   created later with modes that allow it. */
static int
check_reachable (const char *what, const char *path, rf_error_t *err)
{
  cleanup_free char *p = xstrdup (path);
  struct stat st;

  while (*p)
    {
      if (stat (p, &st) == 0 && S_ISDIR (st.st_mode) && !(st.st_mode & S_IXOTH))
        return rf_error_make (err, 0, "%s `%s`: `%s` is mode %04o: the functions' own ids cannot reach below it (it needs o+x)",
                         what, path, p, (unsigned) (st.st_mode & 07777));
      char *slash = strrchr (p, '/');
      if (slash == NULL)
        break;
      *(slash == p ? slash + 1 : slash) = '\0';
      if (strcmp (p, "/") == 0)
        break;
    }
  return 0;
}

/* Which limits the instances' cgroups can have: a hierarchy with the
   controller, where runfd may make its parent directory.  As root, every
   mounted one; rootless, only a delegated (writable) one. */
static unsigned
probe_limits (void)
{
  static const struct
  {
    const char *name;
    unsigned bit;
  } ctl[] = { { "memory", RFD_LIMIT_MEMORY }, { "cpu", RFD_LIMIT_CPU }, { "pids", RFD_LIMIT_PIDS } };
  unsigned ok = 0;
  size_t nh;
  rf_hierarchy_t *h = rf_cgroup_hierarchies (&nh);

  for (size_t c = 0; c < ARRAY_SIZE (ctl); c++)
    for (size_t i = 0; i < nh && !(ok & ctl[c].bit); i++)
      {
        cleanup_free char *list = NULL;
        cleanup_free char *dir = NULL;
        bool has = false;
        char *save = NULL;
        if (h[i].v2)
          {
            cleanup_free char *path = xasprintf ("%s/cgroup.controllers", h[i].mountpoint);
            if (rf_read_file_at (AT_FDCWD, path, 4096, &list, NULL, NULL) < 0)
              continue;
          }
        else
          list = xstrdup (h[i].controllers);
        for (char *t = strtok_r (list, ", \n", &save); t; t = strtok_r (NULL, ", \n", &save))
          if (strcmp (t, ctl[c].name) == 0)
            has = true;
        dir = xasprintf ("%s/%s", h[i].mountpoint, rfd_config.cgroup_parent);
        if (has && rf_mkdir_p (dir, 0755, NULL) == 0 && access (dir, W_OK) == 0)
          ok |= ctl[c].bit;
      }
  rf_cgroup_hierarchies_free (h, nh);
  return ok;
}

/* So many instances that, if each used its whole default memory limit,
   they would still fit in the machine's memory. */
static int
default_max_instances (void)
{
  cleanup_free char *text = NULL;
  char *p;
  long long kib;
  if (rf_read_file_at (AT_FDCWD, "/proc/meminfo", 0, &text, NULL, NULL) < 0
      || (p = strstr (text, "MemTotal:")) == NULL)
    return 64;
  kib = strtoll (p + 9, NULL, 10);
  kib /= RFD_DEFAULT_MEMORY >> 10;
  return kib < 16 ? 16 : kib > 1024 ? 1024 : (int) kib;
}

/* runfd holds a socket per connection and two fds per waiting instance:
   the soft limit (1024 for a systemd service) goes up to the hard one.
   What it was is what the instances get. */
static void
raise_nofile (void)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) < 0)
    return;
  rfd_config.nofile_soft = rl.rlim_cur;
  rfd_config.nofile_hard = rl.rlim_max;
  if (rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &rl) < 0)
        rf_warn ("raise RLIMIT_NOFILE to %llu: %s", (unsigned long long) rl.rlim_max, strerror (errno));
    }
}

static char *
beside_self (const char *name)
{
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  char *slash;
  if (n <= 0)
    return xstrdup (name);
  self[n] = '\0';
  slash = strrchr (self, '/');
  if (slash)
    *slash = '\0';
  return xasprintf ("%s/%s", self, name);
}

int
main (int argc, char **argv)
{
  rf_error_t err = NULL;
  const char *api = NULL, *gateway = "127.0.0.1:8080", *range = "127.77.0.0/16", *state = NULL;
  const char *log_file = NULL;
  char *why = NULL;
  int port = 0, lock_fd;
  uint64_t request_timeout = 10 * RFD_S;
  bool log_max_set = false;
  int max_instances = 0, inherited;
  const char *bridge_range = NULL;
  sigset_t mask;

  rfd_config.pool_budget = RFD_POOL_BUDGET;
  rf_log_init ("runfd");
  if ((inherited = rfd_api_inherit (&err)) < 0)
    goto fail;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp (a, name) == 0 && v && (i++, 1))
      if (ARG ("--state"))
        state = v;
      else if (ARG ("--api"))
        api = v;
      else if (ARG ("--gateway"))
        gateway = v;
      else if (ARG ("--addr-range"))
        range = v;
      else if (ARG ("--port"))
        port = atoi (v);
      else if (ARG ("--store"))
        rfd_config.store = xstrdup (v);
      else if (ARG ("--shim"))
        rfd_config.shim_path = xstrdup (v);
      else if (ARG ("--log"))
        log_file = v;
      else if (ARG ("--log-max"))
        {
          if (rf_parse_ram_bytes (v, &rfd_config.log_max) < 0 || rfd_config.log_max < 0
              || (rfd_config.log_max > 0 && rfd_config.log_max < 4096))
            {
              rf_error_make (&err, 0, "--log-max `%s`: expected a size of at least 4k, or 0", v);
              goto fail;
            }
          log_max_set = true;
        }
      else if (ARG ("--request-timeout"))
        {
          int64_t ns;
          if (rf_parse_seconds_ns (v, &ns) < 0 || ns <= 0 || ns > 3600 * (int64_t) RFD_S)
            {
              rf_error_make (&err, 0, "--request-timeout `%s`: expected seconds or a duration (10, 2.5s, 500ms), "
                                      "above 0 and up to 1h", v);
              goto fail;
            }
          request_timeout = (uint64_t) ns;
        }
      else if (ARG ("--max-instances"))
        {
          unsigned long long n;
          if (rf_parse_uint64 (v, 1000000, &n) < 0 || n == 0)
            {
              rf_error_make (&err, 0, "--max-instances `%s`: expected a whole number from 1 to 1000000", v);
              goto fail;
            }
          max_instances = (int) n;
        }
      else if (ARG ("--pool-budget"))
        {
          unsigned long long n;
          if (rf_parse_uint64 (v, 100000, &n) < 0)
            {
              rf_error_make (&err, 0, "--pool-budget `%s`: expected a whole number from 0 to 100000", v);
              goto fail;
            }
          rfd_config.pool_budget = (int) n;
        }
      else if (ARG ("--spawners"))
        {
          unsigned long long n;
          if (rf_parse_uint64 (v, RFD_SPAWNERS_MAX, &n) < 0 || n == 0)
            {
              rf_error_make (&err, 0, "--spawners `%s`: expected a whole number from 1 to %d", v, RFD_SPAWNERS_MAX);
              goto fail;
            }
          rfd_config.spawners = (int) n;
        }
      else if (ARG ("--uid-range"))
        {
          unsigned base, size;
          if (sscanf (v, "%u:%u", &base, &size) != 2 || size == 0)
            {
              rf_error_make (&err, 0, "--uid-range `%s`: expected BASE:SIZE", v);
              goto fail;
            }
          rfd_config.uid_base = rfd_config.gid_base = base;
          rfd_config.uid_size = rfd_config.gid_size = size;
        }
      else if (ARG ("--network"))
        {
          if (strcmp (v, "none") == 0)
            rfd_config.default_network = RFD_NET_NONE;
          else if (strcmp (v, "isolated") == 0)
            rfd_config.default_network = RFD_NET_ISOLATED;
          else if (strcmp (v, "host") == 0)
            rfd_config.default_network = RFD_NET_HOST;
          else
            {
              rf_error_make (&err, 0, "--network `%s`: expected none, isolated or host", v);
              goto fail;
            }
        }
      else if (ARG ("--bridge"))
        {
          if (strlen (v) == 0 || strlen (v) >= IFNAMSIZ || strpbrk (v, "/ \t\n:") || strcmp (v, ".") == 0
              || strcmp (v, "..") == 0)
            {
              rf_error_make (&err, 0, "--bridge `%s`: expected an interface name of 1 to %d characters", v,
                             IFNAMSIZ - 1);
              goto fail;
            }
          rfd_config.bridge = xstrdup (v);
        }
      else if (ARG ("--bridge-range"))
        bridge_range = v;
      else if (ARG ("--uplink"))
        {
          if (strlen (v) == 0 || strlen (v) >= IFNAMSIZ || strpbrk (v, "/ \t\n"))
            {
              rf_error_make (&err, 0, "--uplink `%s`: expected an interface name", v);
              goto fail;
            }
          rfd_config.uplink = xstrdup (v);
        }
      else if (ARG ("--dns"))
        {
          struct in_addr dns_addr;
          size_t n = strv_len (rfd_config.dns);
          if (inet_pton (AF_INET, v, &dns_addr) != 1)
            {
              rf_error_make (&err, 0, "--dns `%s`: expected an IPv4 address", v);
              goto fail;
            }
          rfd_config.dns = xrealloc (rfd_config.dns, (n + 2) * sizeof (char *));
          rfd_config.dns[n] = xstrdup (v);
          rfd_config.dns[n + 1] = NULL;
        }
      else if (strcmp (a, "--debug") == 0)
        rf_log_set_debug (true);
      else if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
        {
          usage (stdout);
          return 0;
        }
      else
        {
          rf_error_make (&err, 0, "unknown argument `%s` (see runfd --help)", a);
          goto fail;
        }
#undef ARG
    }
  if (rf_log_open (log_file, "text", &why) < 0)
    {
      rf_error_make (&err, 0, "%s", why);
      goto fail;
    }

  rfd_config.rootless = rf_rootless_p ();
  if (state)
    {
      rfd_config.state_dir = realpath (state, NULL);
      if (rfd_config.state_dir == NULL && rf_mkdir_p (state, 0700, &err) == 0)
        rfd_config.state_dir = realpath (state, NULL);
      if (rfd_config.state_dir == NULL)
        {
          rf_error_sys (&err, "--state `%s`", state);
          goto fail;
        }
      rfd_config.run_dir = xasprintf ("%s/run", rfd_config.state_dir);
    }
  else if (!rfd_config.rootless)
    {
      rfd_config.state_dir = xstrdup ("/var/lib/runfd");
      rfd_config.run_dir = xstrdup ("/run/runfd");
    }
  else
    {
      const char *xdg = getenv ("XDG_DATA_HOME"), *home = getenv ("HOME"), *run = getenv ("XDG_RUNTIME_DIR");
      rfd_config.state_dir = xdg && *xdg ? xasprintf ("%s/runfd", xdg) : xasprintf ("%s/.local/share/runfd", home ? home : "/tmp");
      rfd_config.run_dir = run && *run ? xasprintf ("%s/runfd", run) : xasprintf ("/tmp/runfd-%d", (int) geteuid ());
    }
  if (rfd_config.store == NULL)
    rfd_config.store = rf_store_default_root (rfd_config.rootless);
  rfd_config.log_file = log_file;
  /* Beside runfd in the build tree; in ../lib/runf once installed. */
  rfd_config.spawner_path = beside_self ("runfd-spawner");
  if (access (rfd_config.spawner_path, X_OK) < 0)
    {
      free (rfd_config.spawner_path);
      rfd_config.spawner_path = beside_self ("../lib/runf/runfd-spawner");
    }
  if (rfd_config.shim_path == NULL)
    {
      /* Beside runfd in the build tree; in ../lib/runf once installed. */
      rfd_config.shim_path = beside_self ("runf-shim");
      if (access (rfd_config.shim_path, X_OK) < 0)
        {
          free (rfd_config.shim_path);
          rfd_config.shim_path = beside_self ("../lib/runf/runf-shim");
        }
    }
  if (rfd_config.uid_size == 0)
    {
      rfd_config.uid_base = rfd_config.gid_base = 1000000000;
      rfd_config.uid_size = rfd_config.gid_size = 65536;
    }
  rfd_config.function_port = port ? port : rfd_config.rootless ? 8080 : 80;
  rfd_config.request_line_timeout = request_timeout;
  rfd_config.request_line_max = 8192;
  if (!log_max_set)
    rfd_config.log_max = 10 << 20;
  rfd_config.max_instances = max_instances ? max_instances : default_max_instances ();
  if (parse_cidr (range, &rfd_config.range_base, &rfd_config.range_size, &err) < 0)
    goto fail;
  if (rf_mkdir_p (rfd_config.state_dir, 0700, &err) < 0 || rf_mkdir_p (rfd_config.run_dir, 0700, &err) < 0)
    goto fail;
  /* As root, instances run as unprivileged host ids and must reach what is
     bound into them by path (run/sock/NAME.N/control.sock, run/dev): the
     run directory (and the state directory when it holds it) may be
     searched, not listed, by others.  What can hold a secret (records,
     configs, logs, the token) is 0600 in 0700 directories below.
     Rootless, the instances are the user: nothing is others'. */
  {
    size_t sl = strlen (rfd_config.state_dir);
    bool run_inside = strncmp (rfd_config.run_dir, rfd_config.state_dir, sl) == 0 && rfd_config.run_dir[sl] == '/';
    chmod (rfd_config.state_dir, !rfd_config.rootless && run_inside ? 0711 : 0700);
    chmod (rfd_config.run_dir, rfd_config.rootless ? 0700 : 0711);
  }
  if (!rfd_config.rootless
      && (check_reachable ("--store", rfd_config.store, &err) < 0
          || check_reachable ("--state", rfd_config.run_dir, &err) < 0))
    goto fail;
  {
    /* One daemon per state directory. */
    rfd_config.lock_path = xasprintf ("%s/lock", rfd_config.state_dir);
    lock_fd = open (rfd_config.lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock (lock_fd, LOCK_EX | LOCK_NB) < 0)
      {
        rf_error_sys (&err, "`%s`: another runfd uses this state directory", rfd_config.lock_path);
        goto fail;
      }
  }
  rfd_config.cgroup_parent = cgroup_parent_for (rfd_config.state_dir);
  if (network_defaults (bridge_range, &err) < 0 || rfd_network_init (&err) < 0)
    goto fail;
  sweep ();
  raise_nofile ();
  rfd_config.limits_ok = probe_limits ();

  signal (SIGPIPE, SIG_IGN);
  sigemptyset (&mask);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  if (!rfd_config.rootless)
    {
      /* The spawners mount their /dev template here, each in its own
         mount namespace: on the host it stays an empty directory. */
      rfd_config.dev_template = xasprintf ("%s/dev", rfd_config.run_dir);
      if (rf_mkdir_p (rfd_config.dev_template, 0755, &err) < 0)
        goto fail;
    }
  if (rfd_loop_init (&err) < 0 || rfd_spawner_start (&err) < 0)
    goto fail;
  signal_w.fd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  signal_w.fn = on_signal;
  rfd_watch_add (&signal_w, EPOLLIN);

  if (rfd_functions_load (&err) < 0)
    goto fail;
  if (strcmp (gateway, "none") != 0 && rfd_gateway_start (gateway, &err) < 0)
    goto fail;
  {
    cleanup_free char *def = xasprintf ("unix:%s/api.sock", rfd_config.run_dir);
    if (rfd_api_start (api ? api : def, &err) < 0)
      goto fail;
    rf_log (RF_LOG_INFO, "ready: api %s, gateway %s, functions on %s port %d%s",
            inherited ? "from systemd (fd 3)" : api ? api : def, gateway, range,
            rfd_config.function_port, rfd_config.rootless ? " (rootless)" : "");
  }
  if (rfd_loop_run () < 0)
    {
      rf_log (RF_LOG_ERROR, "epoll_wait: %s; stopping", strerror (errno));
      rfd_config.exit_status = 1;
    }
  for (rfd_function_t *fn = rfd_functions; fn; fn = fn->next)
    rfd_pool_drain (fn);
  rfd_spawner_stop ();
  remove_cgroup_parent ();
  rfd_network_shutdown ();
  {
    cleanup_free char *fn_dir = xasprintf ("%s/fn", rfd_config.run_dir);
    cleanup_free char *sock_dir = xasprintf ("%s/sock", rfd_config.run_dir);
    rf_rm_rf (fn_dir, NULL);
    rf_rm_rf (sock_dir, NULL);
    rfd_secrets_sweep ();
  }
  rf_log (RF_LOG_INFO, rfd_config.exit_status ? "stopped after an error" : "stopped");
  return rfd_config.exit_status;

fail:
  {
    cleanup_free char *text = rf_error_text (err);
    rf_log (RF_LOG_ERROR, "%s", text);
  }
  rf_error_free (&err);
  rfd_spawner_stop ();
  /* The probe of the limits and the device rules may have made this
     daemon's cgroups. */
  if (rfd_config.cgroup_parent)
    remove_cgroup_parent ();
  return 1;
}
