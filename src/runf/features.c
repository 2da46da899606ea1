/* `runf features`: the OCI runtime features document (runtime-spec
 * features.md and features-linux.md).  It says what this build of runf
 * implements, not what the host has.  Each item has one table below: when
 * a feature lands (cgroups, seccomp, hooks), its table changes and nothing
 * else does. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/jsonutil.h"
#include "runf.h"
#include "runtime/capnames.h"
#include "runtime/spec.h"

#define OCI_VERSION_MIN "1.0.0"

/* config.json's hooks, all of them (hooks.c). */
static const char *const hooks[] = {
  "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

/* Cgroups: v1 and v2 (and the hybrid of both) through cgroupfs, and
   --systemd-cgroup through the system's systemd (root) and the user's
   (rootless), cgroup_systemd.c.  No rdma controller. */
static const struct
{
  const char *name;
  bool supported;
} cgroup_features[] = {
  { "v1", true },      { "v2", true },   { "systemd", true },
  { "systemdUser", true }, { "rdma", false },
};

/* Seccomp (seccomp.c): the names are what the libseccomp runf links knows,
   which is what runf accepts. */
static const bool seccomp_enabled = true;

static const char *const seccomp_actions[] = {
  "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD",
#ifdef SCMP_ACT_KILL_PROCESS
  "SCMP_ACT_KILL_PROCESS",
#endif
#ifdef SCMP_ACT_LOG
  "SCMP_ACT_LOG",
#endif
#ifdef SCMP_ACT_NOTIFY
  "SCMP_ACT_NOTIFY",
#endif
  "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
};

static const char *const seccomp_operators[] = {
  "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
  "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
};

/* OCI name, libseccomp's name for seccomp_arch_resolve_name(). */
static const char *const seccomp_archs[][2] = {
  { "SCMP_ARCH_X86", "x86" },           { "SCMP_ARCH_X86_64", "x86_64" },
  { "SCMP_ARCH_X32", "x32" },           { "SCMP_ARCH_ARM", "arm" },
  { "SCMP_ARCH_AARCH64", "aarch64" },   { "SCMP_ARCH_MIPS", "mips" },
  { "SCMP_ARCH_MIPS64", "mips64" },     { "SCMP_ARCH_MIPS64N32", "mips64n32" },
  { "SCMP_ARCH_MIPSEL", "mipsel" },     { "SCMP_ARCH_MIPSEL64", "mipsel64" },
  { "SCMP_ARCH_MIPSEL64N32", "mipsel64n32" }, { "SCMP_ARCH_PPC", "ppc" },
  { "SCMP_ARCH_PPC64", "ppc64" },       { "SCMP_ARCH_PPC64LE", "ppc64le" },
  { "SCMP_ARCH_S390", "s390" },         { "SCMP_ARCH_S390X", "s390x" },
  { "SCMP_ARCH_PARISC", "parisc" },     { "SCMP_ARCH_PARISC64", "parisc64" },
  { "SCMP_ARCH_RISCV64", "riscv64" },
};

/* Linux security modules and Intel RDT: applied where the host has them
   (spec_extra.c refuses them by name on a host that does not). */
static const struct
{
  const char *name;
  bool supported;
} lsm_features[] = {
  { "apparmor", true },
  { "selinux", true },
  { "intelRdt", true },
};

/* Mounts with uidMappings/gidMappings (idmapped mounts) are refused. */
static const bool idmap_mounts = false;

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static json_t *
sorted_array (const char *(*name_at) (size_t))
{
  size_t n = 0;
  const char **names;
  json_t *arr = json_array ();

  while (name_at (n))
    n++;
  names = xzalloc ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    names[i] = name_at (i);
  qsort (names, n, sizeof (char *), compare_strings);
  for (size_t i = 0; i < n; i++)
    json_array_append_new (arr, json_string (names[i]));
  free (names);
  return arr;
}

static json_t *
string_array (const char *const *v, size_t n)
{
  json_t *arr = json_array ();
  for (size_t i = 0; i < n && v[i]; i++)
    json_array_append_new (arr, json_string (v[i]));
  return arr;
}

static json_t *
seccomp_json (void)
{
  json_t *archs = json_array ();
  for (size_t i = 0; i < ARRAY_SIZE (seccomp_archs); i++)
    if (seccomp_arch_resolve_name (seccomp_archs[i][1]) != 0)
      json_array_append_new (archs, json_string (seccomp_archs[i][0]));
  return json_pack ("{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", seccomp_enabled,
                    "knownFlags", string_array (rf_seccomp_flags, 8),
                    "supportedFlags", string_array (rf_seccomp_flags, 8),
                    "actions", string_array (seccomp_actions, ARRAY_SIZE (seccomp_actions)),
                    "operators", string_array (seccomp_operators, ARRAY_SIZE (seccomp_operators)),
                    "archs", archs);
}

static json_t *
linux_json (void)
{
  json_t *linux_ = json_object ();
  json_t *caps = json_array ();
  json_t *cgroup = json_object ();

  json_object_set_new (linux_, "namespaces", sorted_array (rf_namespace_type_name));
  for (int cap = 0; cap <= rf_cap_max_known (); cap++)
    json_array_append_new (caps, json_string (rf_cap_name (cap)));
  json_object_set_new (linux_, "capabilities", caps);
  for (size_t i = 0; i < ARRAY_SIZE (cgroup_features); i++)
    json_object_set_new (cgroup, cgroup_features[i].name, json_boolean (cgroup_features[i].supported));
  json_object_set_new (linux_, "cgroup", cgroup);
  json_object_set_new (linux_, "seccomp", seccomp_json ());
  for (size_t i = 0; i < ARRAY_SIZE (lsm_features); i++)
    json_object_set_new (linux_, lsm_features[i].name,
                         json_pack ("{s:b}", "enabled", lsm_features[i].supported));
  json_object_set_new (linux_, "mountExtensions",
                       json_pack ("{s:{s:b}}", "idmap", "enabled", idmap_mounts));
  return linux_;
}

int
runf_cmd_features (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  const struct scmp_version *v = seccomp_version ();
  cleanup_json json_t *doc = NULL;
  cleanup_free char *text = NULL;
  char libseccomp[32];

  if (runf_plain_args (argc, argv, 0, "no arguments", err) < 0)
    return -1;
  snprintf (libseccomp, sizeof libseccomp, "%u.%u.%u", v->major, v->minor, v->micro);
  doc = json_pack ("{s:s, s:s, s:o, s:o, s:o, s:{s:s, s:s, s:s}}",
                   "ociVersionMin", OCI_VERSION_MIN, "ociVersionMax", RUNF_SPEC_VERSION,
                   "hooks", string_array (hooks, ARRAY_SIZE (hooks)),
                   "mountOptions", sorted_array (rf_mount_option_name),
                   "linux", linux_json (),
                   "annotations",
                   "io.github.seccomp.libseccomp.version", libseccomp,
                   "org.runf.version", RUNF_VERSION,
                   "org.runf.checkpoint.enabled", "false");
  text = json_dumps (doc, JSON_INDENT (4));
  puts (text);
  (void) g;
  return 0;
}
