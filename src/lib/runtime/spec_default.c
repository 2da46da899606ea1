/* The config.json that `runf spec` writes: runc's defaults, so that a
 * bundle made for runc runs the same under runf and the reverse. */
#include <unistd.h>

#include "spec.h"

static json_t *
default_caps (void)
{
  return json_pack ("[sss]", "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");
}

static json_t *
default_mounts (bool rootless)
{
  json_t *devpts_opts = json_pack ("[ssss]", "nosuid", "noexec", "newinstance", "ptmxmode=0666");
  json_t *mounts;

  json_array_append_new (devpts_opts, json_string ("mode=0620"));
  /* gid 5 (tty) is usually not mapped in a rootless user namespace. */
  if (!rootless)
    json_array_append_new (devpts_opts, json_string ("gid=5"));

  mounts = json_pack (
      "[{s:s, s:s, s:s}, {s:s, s:s, s:s, s:[ssss]}, {s:s, s:s, s:s, s:o},"
      " {s:s, s:s, s:s, s:[sssss]}, {s:s, s:s, s:s, s:[sss]}]",
      "destination", "/proc", "type", "proc", "source", "proc",
      "destination", "/dev", "type", "tmpfs", "source", "tmpfs", "options",
      "nosuid", "strictatime", "mode=755", "size=65536k",
      "destination", "/dev/pts", "type", "devpts", "source", "devpts", "options", devpts_opts,
      "destination", "/dev/shm", "type", "tmpfs", "source", "shm", "options",
      "nosuid", "noexec", "nodev", "mode=1777", "size=65536k",
      "destination", "/dev/mqueue", "type", "mqueue", "source", "mqueue", "options",
      "nosuid", "noexec", "nodev");
  if (rootless)
    /* Without its own network namespace a rootless container may not mount
       a new sysfs; it gets the host's, read-only. */
    json_array_append_new (mounts, json_pack ("{s:s, s:s, s:s, s:[sssss]}",
                                              "destination", "/sys", "type", "none",
                                              "source", "/sys", "options", "rbind",
                                              "nosuid", "noexec", "nodev", "ro"));
  else
    json_array_append_new (mounts, json_pack ("{s:s, s:s, s:s, s:[ssss]}",
                                              "destination", "/sys", "type", "sysfs",
                                              "source", "sysfs", "options", "nosuid",
                                              "noexec", "nodev", "ro"));
  json_array_append_new (mounts, json_pack ("{s:s, s:s, s:s, s:[sssss]}",
                                            "destination", "/sys/fs/cgroup", "type",
                                            "cgroup", "source", "cgroup", "options",
                                            "nosuid", "noexec", "nodev", "relatime", "ro"));
  return mounts;
}

json_t *
rf_spec_default (bool rootless)
{
  json_t *spec, *linux_, *namespaces;

  namespaces = json_pack ("[{s:s}]", "type", "pid");
  if (!rootless)
    json_array_append_new (namespaces, json_pack ("{s:s}", "type", "network"));
  json_array_append_new (namespaces, json_pack ("{s:s}", "type", "ipc"));
  json_array_append_new (namespaces, json_pack ("{s:s}", "type", "uts"));
  json_array_append_new (namespaces, json_pack ("{s:s}", "type", "mount"));
  if (rootless)
    json_array_append_new (namespaces, json_pack ("{s:s}", "type", "user"));

  linux_ = json_pack (
      "{s:o, s:[ssssssssss], s:[sssss]}", "namespaces", namespaces,
      "maskedPaths", "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
      "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
      "readonlyPaths", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
      "/proc/sysrq-trigger");
  if (rootless)
    {
      json_object_set_new (linux_, "uidMappings",
                           json_pack ("[{s:I, s:I, s:I}]", "containerID", (json_int_t) 0,
                                      "hostID", (json_int_t) geteuid (), "size", (json_int_t) 1));
      json_object_set_new (linux_, "gidMappings",
                           json_pack ("[{s:I, s:I, s:I}]", "containerID", (json_int_t) 0,
                                      "hostID", (json_int_t) getegid (), "size", (json_int_t) 1));
    }

  spec = json_pack (
      "{s:s, s:{s:b, s:{s:i, s:i}, s:[s], s:[ss], s:s, s:{s:o, s:o, s:o, s:o},"
      " s:[{s:s, s:i, s:i}], s:b}, s:{s:s, s:b}, s:s, s:o, s:o}",
      "ociVersion", "1.0.2-dev",
      "process", "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "TERM=xterm", "cwd", "/", "capabilities", "bounding", default_caps (),
      "effective", default_caps (), "permitted", default_caps (), "ambient",
      default_caps (), "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft",
      1024, "noNewPrivileges", 1,
      "root", "path", "rootfs", "readonly", 1,
      "hostname", "runf",
      "mounts", default_mounts (rootless),
      "linux", linux_);
  return spec;
}
