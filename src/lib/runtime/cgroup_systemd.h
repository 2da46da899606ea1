/* The systemd cgroup driver (`runf --systemd-cgroup` where systemd is the
 * running init), as runc's: the container's cgroup is a transient scope
 * unit that systemd makes through its D-Bus API (StartTransientUnit with
 * the container's init as its process and Delegate=yes), with the limits
 * systemd has properties for; runf then writes every limit through
 * cgroupfs as well (cgroup.c), for what systemd has no property for.
 * Root talks to the system's manager, rootless to the user's.  sd-bus of
 * libsystemd, loaded when first needed (docs/cgroups.md says why). */
#ifndef RF_CGROUP_SYSTEMD_H
#define RF_CGROUP_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "common/error.h"
#include "resources.h"
#include "spec.h"

/* Whether systemd is the running init (sd_booted(3)'s test: the directory
   /run/systemd/system exists).  Where it is not, --systemd-cgroup makes the
   cgroup through cgroupfs where systemd would have put it. */
bool rf_systemd_booted_p (void);

/* The unit of a container from linux.cgroupsPath in runc's systemd form
   "slice:prefix:name" (empty: ":runf:<id>"): *unit is the scope
   "prefix-name.scope" ("name.scope" without a prefix), *slice the slice it
   goes in (empty: system.slice, user.slice rootless); or, for a name
   ending in .slice, *unit is that slice unit (the prefix unused) and
   *slice the one it Wants=, as runc's.  Anything else is one error naming
   linux.cgroupsPath: another form, a bad slice name (-.slice as the
   container's own among them), characters systemd refuses in unit names.
   Both owned by the caller. */
int rf_systemd_unit_for (const char *cgroups_path, const char *id, bool rootless, char **slice,
                         char **unit, rf_error_t *err);

/* One property of a unit, as StartTransientUnit and SetUnitProperties take
   it: sig is its D-Bus type, one of "b" (b), "s" (s), "y" "q" "u" "t"
   (t), "n" "i" "x" (x), "d" (d), "ay" (bytes, n_bytes) or "as" (strv).
   The *_owned fields, bytes and strv are the property's own
   (rf_unit_props_free). */
typedef struct
{
  const char *name;
  const char *sig;
  bool b;
  const char *s;
  uint64_t t;
  int64_t x;
  double d;
  uint8_t *bytes;
  size_t n_bytes;
  char **strv;
  char *s_owned;
  char *name_owned;
} rf_unit_prop_t;

/* systemd's "infinity" for limits. */
#define RF_SYSTEMD_INFINITY UINT64_MAX

/* The properties systemd of this version has for the resources, on a v2
   or a v1 (legacy or hybrid) host, as runc sets them: MemoryMax,
   MemoryLow, MemorySwapMax, CPUWeight, IOWeight, TasksMax,
   CPUQuotaPerSecUSec (+ CPUQuotaPeriodUSec from v242), AllowedCPUs and
   AllowedMemoryNodes (v2, from v244); on v1 MemoryLimit, CPUShares,
   BlockIOWeight, TasksMax and the CPU quota.  Fields not set give none.
   *props is the caller's (rf_unit_props_free). */
int rf_systemd_resource_props (const rf_resources_t *res, bool v2, unsigned version,
                               rf_unit_prop_t **props, size_t *n, rf_error_t *err);
void rf_unit_props_free (rf_unit_prop_t *props, size_t n);
/* What the n properties own, not the array. */
void rf_unit_props_free_values (rf_unit_prop_t *props, size_t n);

/* The unit properties of runc's org.systemd.property.NAME annotations
   (annotations as rf_spec_t has them: key, value, ..., NULL), in their
   order; other annotations are not looked at.  NAME is letters and
   digits; the value is in GVariant's text form, the subset systemd's
   properties need: true and false, 'string' or "string" (escapes \\ \'
   \" \n \t \r), numbers (int32, or double with a point or an exponent;
   decimal, 0x hex or 0 octal), a type before a value (`uint64 5`,
   `@t 5`: boolean byte int16 uint16 int32 uint32 int64 uint64 double
   string; @b @y @n @q @i @u @x @t @d @s), and arrays of strings
   (['a', 'b'], `@as []`).  NAMESec (not USec) takes seconds and becomes
   NAMEUSec in microseconds, as runc does.  Anything else is one error
   naming the annotation and where in its value.  *props is the caller's. */
int rf_systemd_annotation_props (char *const *annotations, rf_unit_prop_t **props, size_t *n,
                                 rf_error_t *err);
/* Whether a unit or property name ends in suffix (".slice", "USec"). */
bool rf_systemd_name_ends_with (const char *name, const char *suffix);
/* One value in that text form: 0, or -1 with *why and the byte *at. */
int rf_gvariant_parse (const char *text, rf_unit_prop_t *v, const char **why, size_t *at);

/* A cpu or memory node list ("0-2,7") as the bit mask AllowedCPUs takes:
   byte i bit j is number 8i+j. */
int rf_systemd_cpu_mask (const char *list, uint8_t **mask, size_t *n, rf_error_t *err);

/* The leading number of systemd's Version property ("252.38-1~deb12u1"
   is 252); 0 when there is none. */
unsigned rf_systemd_parse_version (const char *version);

/* What rf_cgroup_systemd_create checks before it asks systemd: the unit's
   name and linux.resources, for an error before the container's init is
   made. */
int rf_cgroup_systemd_check (const rf_spec_t *spec, const char *id, bool rootless, rf_error_t *err);
/* Start the container's unit and wait for systemd to finish the job (30 s
   at most), then take its cgroup as rf_cgroup_adopt does, with pid in it:
   systemd puts pid in a scope, runf in a slice.  A unit of the same name
   that exists (another container's) is an error naming it.  On a failure after the unit was made, *cg holds it:
   the caller kills pid, then removes it with rf_cgroup_destroy; else *cg
   is empty. */
int rf_cgroup_systemd_create (rf_cgroup_t *cg, const rf_spec_t *spec, const char *id, bool rootless,
                              pid_t pid, rf_error_t *err);
/* Stop cg's unit and wait for it; a unit already gone is no error. */
int rf_cgroup_systemd_stop (const rf_cgroup_t *cg, rf_error_t *err);
/* The properties of res on cg's unit (runtime, as runc's update). */
int rf_cgroup_systemd_set (const rf_cgroup_t *cg, const rf_resources_t *res, rf_error_t *err);
/* libsystemd.so.0 opened into *handle, with the functions names[0..n)
   resolved into fns (systemd_load.c; a static program defines its own,
   which says it has none). */
int rf_libsystemd_load (void **handle, const char *const *names, void **fns, size_t n, rf_error_t *err);

#endif
