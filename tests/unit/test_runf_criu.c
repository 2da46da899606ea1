/* The pure parts of runf's CRIU client (src/runf/criu.c): which mounts
 * checkpoint declares external, which line of CRIU's log an error shows,
 * runc's flag values, and the option builders (their frees under ASan). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runf/criu.h"

static void
test_external_mounts (void **state)
{
  /* A runf container on a hybrid host: its rootfs (a bind of a directory
     of the host's ext4), proc with a read-only bind of /proc/sys, /dev's
     tmpfs with /dev/null bound over a masked file, and the cgroup
     directories bound under /sys/fs/cgroup; then a bundle bind from the
     same ext4 as the rootfs, one from inside the rootfs, and a mountpoint
     with a space. */
  const char *info
      = "279 181 254:0 /b/rootfs / rw - ext4 /dev/vda rw\n"
        "280 279 0:84 / /proc rw - proc proc rw\n"
        "282 279 0:85 / /dev rw - tmpfs tmpfs rw\n"
        "286 279 0:92 / /sys ro - sysfs sysfs ro\n"
        "287 286 0:93 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n"
        "288 287 0:28 /runf/c1 /sys/fs/cgroup/cpu ro - cgroup cgroup rw,cpu\n"
        "300 287 0:37 /runf/c1 /sys/fs/cgroup/unified ro - cgroup2 cgroup2 rw\n"
        "187 280 0:85 /null /proc/keys rw - tmpfs tmpfs rw\n"
        "249 280 0:84 /sys /proc/sys ro - proc proc rw\n"
        "301 279 254:0 /b/vol /vol rw - ext4 /dev/vda rw\n"
        "302 279 254:0 /b/rootfs/data /data rw - ext4 /dev/vda rw\n"
        "303 279 254:0 /b/my\\040dir /my\\040dir rw - ext4 /dev/vda rw\n"
        "not a mountinfo line\n";
  cleanup_strv char **got = runf_criu_external_mounts (info);
  const char *want[] = { "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/unified", "/vol", "/my dir", NULL };

  (void) state;
  for (size_t i = 0; want[i]; i++)
    {
      assert_non_null (got[i]);
      assert_string_equal (got[i], want[i]);
    }
  assert_null (got[4]);
}

static void
test_external_mounts_none (void **state)
{
  cleanup_strv char **got = runf_criu_external_mounts ("");
  (void) state;
  assert_non_null (got);
  assert_null (got[0]);
}

static char *
log_error_of (const char *text)
{
  char path[] = "/tmp/runf-criu-log.XXXXXX";
  int fd = mkstemp (path);
  char *got;
  assert_true (fd >= 0);
  assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
  close (fd);
  got = runf_criu_log_error (path);
  unlink (path);
  return got;
}

static void
test_log_error (void **state)
{
  char *got;
  (void) state;
  /* The first error that is a cause: not CRIU's RLIMIT_NOFILE attempt,
     not the consequences after it, not "Dumping FAILED.". */
  got = log_error_of ("(00.01) Version: 4.1\n"
                      "(00.05) Error (criu/util.c:1533): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted\n"
                      "(00.20) Error (criu/sk-inet.c:199): inet: Connected TCP socket, consider using --tcp-established option.\n"
                      "(00.21) Error (criu/cr-dump.c:1681): Dump files (pid: 11188) failed with -1\n"
                      "(00.30) Error (criu/cr-dump.c:2111): Dumping FAILED.\n");
  assert_string_equal (got, "inet: Connected TCP socket, consider using --tcp-established option.");
  free (got);
  /* Only the closing line: that is what there is to say. */
  got = log_error_of ("(00.30) Error (criu/cr-restore.c:2320): Restoring FAILED.\r\n");
  assert_string_equal (got, "Restoring FAILED.");
  free (got);
  got = log_error_of ("(00.01) Warn  (criu/kerndat.c:1637): CRIU was built without libnftables support\n");
  assert_null (got);
  assert_null (runf_criu_log_error ("/nonexistent/dump.log"));
  assert_null (runf_criu_log_error (NULL));
}

static void
test_flag_values (void **state)
{
  rf_error_t err = NULL;
  CriuCgMode mode = CRIU_CG_MODE__DEFAULT;
  uint32_t mask = 0;
  (void) state;

  assert_int_equal (runf_criu_cg_mode ("strict", &mode, &err), 0);
  assert_int_equal (mode, CRIU_CG_MODE__STRICT);
  assert_int_equal (runf_criu_cg_mode ("ignore", &mode, &err), 0);
  assert_int_equal (mode, CRIU_CG_MODE__IGNORE);
  assert_int_equal (runf_criu_cg_mode ("Soft", &mode, &err), -1);
  assert_non_null (strstr (err->msg, "`Soft`"));
  rf_error_free (&err);

  assert_int_equal (runf_criu_empty_ns ("network", &mask, &err), 0);
  assert_int_equal (mask, CLONE_NEWNET);
  assert_int_equal (runf_criu_empty_ns ("pid", &mask, &err), -1);
  rf_error_free (&err);

  assert_string_equal (runf_criu_ns_key (CLONE_NEWNET), "extRootNetNS");
  assert_string_equal (runf_criu_ns_key (CLONE_NEWPID), "extRootPidNS");
  assert_null (runf_criu_ns_key (CLONE_NEWIPC));
}

static void
test_config_file (void **state)
{
  char *none[] = { NULL };
  char *named[] = { "a", "b", "org.criu.config", "/etc/criu/mine.conf", NULL };
  char *empty[] = { "org.criu.config", "", NULL };
  rf_spec_t spec;
  (void) state;

  memset (&spec, 0, sizeof spec);
  assert_string_equal (runf_criu_config_file (&spec), "/etc/criu/runf.conf");
  spec.annotations = none;
  assert_string_equal (runf_criu_config_file (&spec), "/etc/criu/runf.conf");
  spec.annotations = named;
  assert_string_equal (runf_criu_config_file (&spec), "/etc/criu/mine.conf");
  spec.annotations = empty;
  assert_null (runf_criu_config_file (&spec));
}

static void
test_opts_builders (void **state)
{
  CriuOpts opts = CRIU_OPTS__INIT;
  (void) state;

  runf_criu_add_ext_mount (&opts, "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu/runf/c1");
  runf_criu_add_ext_mount (&opts, "/dev/null", "/dev/null");
  runf_criu_add_external (&opts, "file[17:3]");
  runf_criu_add_inherit_fd (&opts, "pipe:[42]", 1);
  runf_criu_add_join_ns (&opts, "ipc", "/proc/1/ns/ipc");
  runf_criu_add_cg_root (&opts, "memory", "/runf/c1");
  runf_criu_add_cg_root (&opts, "", "/runf/c1");
  assert_int_equal (opts.n_ext_mnt, 2);
  assert_string_equal (opts.ext_mnt[0]->val, "/sys/fs/cgroup/cpu/runf/c1");
  assert_string_equal (opts.external[0], "file[17:3]");
  assert_int_equal (opts.inherit_fd[0]->fd, 1);
  assert_string_equal (opts.join_ns[0]->ns_file, "/proc/1/ns/ipc");
  /* No controller: CRIU's root for every controller not named. */
  assert_null (opts.cg_root[1]->ctrl);
  /* The whole request packs. */
  {
    CriuReq req = CRIU_REQ__INIT;
    size_t len;
    uint8_t *buf;
    CriuReq *back;
    req.type = CRIU_REQ_TYPE__RESTORE;
    req.opts = &opts;
    len = criu_req__get_packed_size (&req);
    buf = malloc (len);
    criu_req__pack (&req, buf);
    back = criu_req__unpack (NULL, len, buf);
    assert_non_null (back);
    assert_int_equal (back->opts->n_cg_root, 2);
    assert_string_equal (back->opts->inherit_fd[0]->key, "pipe:[42]");
    criu_req__free_unpacked (back, NULL);
    free (buf);
  }
  runf_criu_opts_clear (&opts);
  assert_int_equal (opts.n_ext_mnt, 0);
  assert_null (opts.cg_root);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_external_mounts),
    cmocka_unit_test (test_external_mounts_none),
    cmocka_unit_test (test_log_error),
    cmocka_unit_test (test_flag_values),
    cmocka_unit_test (test_config_file),
    cmocka_unit_test (test_opts_builders),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
