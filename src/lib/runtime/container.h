/* Container lifecycle, the parent's side: create (clone the init and walk
 * it through setup), start, kill, delete, state.  The CLI and runfd both
 * call these; nothing here prints. */
#ifndef RF_CONTAINER_H
#define RF_CONTAINER_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "common/error.h"
#include "spec.h"
#include "state.h"

typedef struct
{
  const char *id;
  const char *bundle;     /* NULL: the current directory */
  const char *state_root; /* where the state directories live */
  const char *pid_file;
  const char *console_socket;
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds; /* fds 3.. passed into the container (LISTEN_FDS included) */
  int listen_fds;
  bool rootless;
  /* --systemd-cgroup: where systemd is the running init, the cgroup is a
     scope unit of systemd's (cgroup_systemd.h), made once init exists. */
  bool systemd_cgroup;
  /* Started by the creator over the sync socket (`run`, runfd): no
     exec.fifo, and the caller must call rf_container_start_now. */
  bool start_now;
  /* For runfd's instances (start_now only): no state directory at all,
     stdio from these fds (-1: as runf's), and one fd handed over with
     START that becomes fd 3 (and 0 and 1 with start_fd_stdio), announced
     as LISTEN_FDS=1. */
  bool no_state;
  /* A cgroup the caller made ahead (rf_cgroup_create with the spec's
     resources, or one reset by rf_cgroup_reset), with nothing in it: the
     container takes it over (*cgroup is left empty; an empty one means
     none at all) instead of making one from linux.cgroupsPath. */
  rf_cgroup_t *cgroup;
  int stdio[3];
  bool start_fd;
  bool start_fd_stdio;
  /* The process is killed when its parent (runfd's spawner) dies. */
  bool die_with_parent;
  /* The rootfs is mounted nosuid and nodev (runfd: image content that no
     instance may use to gain privileges or reach a device). */
  bool rootfs_nosuid_nodev;
  /* >= 0: the network namespace the container runs in, entered by this
     process for the clone and left again right after (runfd's functions
     share one each; joining it costs two setns instead of a namespace per
     container).  The config then lists no network namespace. */
  int netns_fd;
  /* The signals whose action here is not the default, which init resets
     before anything of the container's runs; NULL: not known, init resets
     every one (64 system calls that runfd's spawner, which keeps every
     action at its default, saves for each instance). */
  const sigset_t *changed_signals;
  /* With bundle, real paths from rf_container_resolve, not resolved again
     (a realpath walk costs a readlink per component, for every one of
     runfd's instances); NULL: both are resolved here. */
  const char *rootfs;
  /* init shares this process's memory until its exec where it can
     (rf_clone_vm, linux/init.h): no page tables copied at the clone, none
     torn down at the exec, no copy-on-write faults in between.  Only for
     a single-threaded caller that keeps no state init could disturb:
     runfd's spawner. */
  bool share_memory;
} rf_create_opts_t;

typedef struct
{
  char *id;
  char *root; /* the state root */
  char *state_dir;
  pid_t pid;      /* init, as this process sees it */
  int pidfd;      /* -1 where pidfds are missing */
  int sync_fd;    /* -1 once started */
  int pty_master; /* -1 unless a terminal was made and not sent away */
  bool child;     /* init is this process's child (waitpid works) */
  rf_cgroup_t cgroup;
  char *rdt_dir; /* resctrl group runf made */
  bool new_userns; /* runf writes the id maps */
  unsigned long long mnt_ns; /* init's mount namespace, read while it was dumpable */
  void *init_stack; /* where init runs in this process's memory (share_memory), or NULL */
} rf_container_t;

/* The bundle (NULL: the current directory) and spec's root.path as real
   paths, for a caller that creates many containers of one bundle. */
int rf_container_resolve (const rf_spec_t *spec, const char *bundle, char **real_bundle, char **real_rootfs,
                          rf_error_t *err);
/* Create the container described by spec; on failure nothing of it is left
   (no process, no state directory). */
int rf_container_create (const rf_create_opts_t *opts, const rf_spec_t *spec,
                         rf_container_t **out, rf_error_t *err);
/* For start_now containers: exec the process and wait until it has. */
int rf_container_start_now (rf_container_t *c, rf_error_t *err);
/* A start_now container handed over by its sync socket (c->sync_fd, which
   runfd's spawner passes to runfd): let its process go, without waiting,
   with fd (as start_fd says; -1: none) and env ("K=V" strings, each with
   its NUL, env_len bytes in all, at most 2 KiB: what only the request
   knows).  0, or -1 with errno (the init is gone). */
int rf_instance_start (int sync_fd, int fd, const char *env, size_t env_len);
/* What the sync socket says after rf_instance_start, one message a call
   (when it is readable): 0 at its end (the process is exec'd), 1 when the
   process could not be started (why, in why), -1 with errno (EAGAIN:
   nothing that decides it yet). */
int rf_instance_started (int sync_fd, char *why, size_t size);
/* An initialised rf_create_opts_t (stdio inherited). */
void rf_create_opts_init (rf_create_opts_t *opts);
/* A /dev made once to be bound into many containers (runfd's spawner, in
   a mount namespace of its own): the default devices (made with mknod, or
   where the caller may not, the host's bound on files) and the default
   links, in the (empty, writable, not nodev) directory DIR.
   A config.json that binds it as /dev gets nothing more made per
   container. */
int rf_devices_template (const char *dir, rf_error_t *err);
/* Kill what is left of a half-made container and remove its state. */
void rf_container_abort (rf_container_t *c);
void rf_container_free (rf_container_t *c);

/* The commands on an existing container, by id. */
int rf_container_start (const char *root, const char *id, rf_error_t *err);
/* all: every process of the container (those rf_container_pids finds),
   not only its init. */
int rf_container_kill (const char *root, const char *id, int sig, bool all, rf_error_t *err);
int rf_container_delete (const char *root, const char *id, bool force, rf_error_t *err);
/* Remove the state of a stopped container (after `run`). */
int rf_container_remove_state (const char *root, const char *id, rf_error_t *err);

/* The host pids of the container's processes, sorted; none once it has
   stopped.  *pids is the caller's to free.  Without cgroups this goes by
   namespace; it is the one place to switch to the cgroup's member list. */
int rf_container_pids (const char *root, const char *id, pid_t **pids, size_t *n,
                       rf_error_t *err);

/* The config.json the container was created with (kept in its state dir). */
rf_spec_t *rf_container_load_spec (const char *root, const char *id, rf_error_t *err);

/* Signal by name ("KILL", "SIGKILL") or number; -1 when unknown. */
int rf_signal_parse (const char *s);

#endif
