/* CRIU for `runf checkpoint` and `runf restore`: runf starts `criu swrk FD`
 * as its child and speaks CRIU's RPC protocol over a SOCK_SEQPACKET socket,
 * with the C code protoc-c generates from the rpc.proto of Debian's criu
 * package (docs/engines.md says why not libcriu). */
#ifndef RUNF_CRIU_H
#define RUNF_CRIU_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "rpc.pb-c.h"
#include "runtime/spec.h"

/* In the image directory: the container's stdio as checkpoint found it,
   under runc's name and in runc's format (a JSON array of three strings). */
#define RUNF_CRIU_DESCRIPTORS "descriptors.json"

/* What a request needs besides its options. */
typedef struct
{
  const char *binary;   /* the criu to run: --criu, else "criu" in PATH */
  const char *log_path; /* where the log lands, for the error line */
  /* fds criu gets under their own numbers (criu's inherit_fd refers to
     them), besides stdio and the RPC socket. */
  const int *keep_fds;
  size_t n_keep_fds;
  /* Called once criu runs and before the request goes out (restore puts
     criu into the container's cgroups here, so what it forks is born in
     them). */
  int (*started) (pid_t criu, void *data, rf_error_t *err);
  /* A notification ("setup-namespaces", "post-restore",
     "orphan-pts-master", ...): pid is the restored init's where CRIU
     sends one (0 otherwise), fd one CRIU passed (-1: none; the callee
     closes it). */
  int (*notify) (const char *script, pid_t pid, int fd, void *data, rf_error_t *err);
  void *data;
} runf_criu_call_t;

/* Run one request through a fresh `criu swrk`.  On success *pid is the
   restored init's pid for RESTORE (0 otherwise).  A failure is one line:
   what CRIU said, from its answer and its log, and where the log is. */
int runf_criu_request (const runf_criu_call_t *call, CriuReqType type, CriuOpts *opts,
                       pid_t *pid, rf_error_t *err);

/* The version of the criu binary as major*10000 + minor*100 + sublevel. */
int runf_criu_version (const char *binary, int *version, rf_error_t *err);

/* Whether CRIU can track memory changes here (soft-dirty bits), which
   --pre-dump and --parent-path need. */
int runf_criu_mem_track (const char *binary, bool *available, rf_error_t *err);

/* "soft", "full", "strict", "ignore" (runc's --manage-cgroups-mode). */
int runf_criu_cg_mode (const char *name, CriuCgMode *mode, rf_error_t *err);

/* --empty-ns: CRIU can leave only the network namespace empty. */
int runf_criu_empty_ns (const char *name, uint32_t *mask, rf_error_t *err);

/* runc's keys for a namespace joined by path: "extRootNetNS", "extRootPidNS". */
const char *runf_criu_ns_key (int flag);

/* The CRIU configuration file for this container: the annotation
   org.criu.config (empty: none), else /etc/criu/runf.conf, which CRIU
   skips when it does not exist. */
const char *runf_criu_config_file (const rf_spec_t *spec);

/* The Error line of a CRIU log that says why it failed: the last one before
   CRIU's closing "... FAILED." line.  NULL when the log has none. */
char *runf_criu_log_error (const char *log_path);

/* The mountpoints of a mountinfo text (a process's mount namespace) that
   CRIU must be told are external: binds whose file system has no mount
   in that namespace at or above their root.  NULL-terminated; the
   caller frees it with strv_free. */
char **runf_criu_external_mounts (const char *mountinfo);

/* Small builders for CriuOpts' repeated fields (the caller frees them with
   runf_criu_opts_clear). */
void runf_criu_add_ext_mount (CriuOpts *opts, const char *key, const char *val);
void runf_criu_add_external (CriuOpts *opts, const char *spec);
void runf_criu_add_inherit_fd (CriuOpts *opts, const char *key, int fd);
void runf_criu_add_join_ns (CriuOpts *opts, const char *ns, const char *file);
void runf_criu_add_cg_root (CriuOpts *opts, const char *ctrl, const char *path);
void runf_criu_opts_clear (CriuOpts *opts);

#endif
