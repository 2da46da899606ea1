/* runfd: the function daemon.  One single-threaded event loop (this
 * process) owns every socket: the functions' own addresses, the shared
 * gateway, the admin API.  Containers are made by the spawners,
 * single-threaded child processes that alone call into the runtime library
 * (they fork; this process never does while it serves).  This process
 * keeps per-function pools of the created containers they hand back; a
 * request takes one and hands it the client's socket with the START
 * message: what is left on the request path is a sendmsg and the
 * handler's execve. */
#ifndef RUNFD_H
#define RUNFD_H

#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/error.h"

#define RFD_VERSION "0.1.0"

/* --- the event loop (loop.c) --------------------------------------------- */

typedef struct rfd_watch rfd_watch_t;
typedef void (*rfd_watch_fn) (rfd_watch_t *w, uint32_t events);
struct rfd_watch
{
  int fd;
  rfd_watch_fn fn;
  void *data;
};

typedef struct rfd_timer rfd_timer_t;
typedef void (*rfd_timer_fn) (rfd_timer_t *t);
struct rfd_timer
{
  uint64_t when; /* monotonic ns */
  rfd_timer_fn fn;
  void *data;
  size_t slot; /* in the heap; SIZE_MAX when not armed */
};

int rfd_loop_init (rf_error_t *err);
int rfd_watch_add (rfd_watch_t *w, uint32_t events);
int rfd_watch_mod (rfd_watch_t *w, uint32_t events);
void rfd_watch_del (rfd_watch_t *w);
/* Remove from the loop, close, and mark dead (fd -1). */
void rfd_watch_close (rfd_watch_t *w);
/* Free p with fn once the current batch of events is done. */
void rfd_defer_free (void *p, void (*fn) (void *));
void rfd_timer_init (rfd_timer_t *t, rfd_timer_fn fn, void *data);
void rfd_timer_arm (rfd_timer_t *t, uint64_t delay_ns);
void rfd_timer_cancel (rfd_timer_t *t);
bool rfd_timer_armed_p (const rfd_timer_t *t);
/* Run until rfd_loop_stop; returns 0 then. */
int rfd_loop_run (void);
void rfd_loop_stop (void);
uint64_t rfd_now (void);

#define RFD_MS (1000000ULL)
#define RFD_S (1000000000ULL)

/* --- functions ------------------------------------------------------------ */

typedef enum
{
  RFD_MODE_INETD,
  RFD_MODE_CONTROL,
  RFD_MODE_WARM,
  RFD_MODE_STDIO,
  RFD_MODE_HTTP, /* the image's own server on $PORT, in a network namespace of its own */
} rfd_mode_t;

/* The modes whose handler can start before its request and wait for it
   (docs/functions.md, Pre-started instances). */
#define RFD_PRESTART_P(mode) ((mode) == RFD_MODE_CONTROL || (mode) == RFD_MODE_HTTP)

/* A function's network (network.c, docs/functions.md). */
typedef enum
{
  RFD_NET_NONE,     /* a namespace of its own with only lo */
  RFD_NET_ISOLATED, /* its own namespace on runfd's bridge, NAT to the uplink */
  RFD_NET_HOST,     /* the host's */
} rfd_network_t;

typedef struct rfd_conn rfd_conn_t;
typedef struct rfd_instance rfd_instance_t;
typedef struct rfd_log rfd_log_t;

/* The outcomes /metrics counts, as the label code="...". */
enum
{
  RFD_REQ_OK, RFD_REQ_400, RFD_REQ_404, RFD_REQ_408, RFD_REQ_429, RFD_REQ_502, RFD_REQ_503, RFD_REQ_504,
  RFD_REQ_N
};
typedef struct rfd_function rfd_function_t;

/* The histograms of /metrics: seconds, cumulative buckets. */
#define RFD_BUCKETS 12
typedef struct
{
  uint64_t counts[RFD_BUCKETS + 1];
  double sum;
  uint64_t n;
} rfd_histogram_t;

/* The limits a deploy may set: which were given, which runfd can apply. */
enum
{
  RFD_LIMIT_MEMORY = 1,
  RFD_LIMIT_CPU = 2,
  RFD_LIMIT_PIDS = 4,
};

struct rfd_function
{
  rfd_function_t *next;
  uint32_t id; /* the spawner's name for it */

  /* What the deploy asked for (fnspec.c). */
  char *name;
  char *image;  /* as deployed */
  rfd_mode_t mode;
  char **env;
  char **cmd;
  int64_t memory; /* bytes */
  double cpus;    /* 0: none */
  int64_t pids;
  unsigned limits_given; /* RFD_LIMIT_*: set by the deploy, not defaults */
  uint64_t timeout_ns;
  int concurrency; /* instances serving at once */
  int queue_max;
  int min, max;     /* warm mode */
  uint64_t idle_ns; /* warm mode */
  int per_instance; /* requests one instance serves: 1 a fresh container each, 0 no bound */
  int http_port;    /* http mode: where its server listens ($PORT) */
  uint64_t start_timeout_ns; /* pre-started: from START to ready */
  bool read_only;
  char **caps;
  char **secrets;     /* names, mounted as files */
  char *secrets_dir;  /* run/secrets/NAME.ID: their copies, the instances' to read */
  uid_t secrets_uid;  /* the host ids the instances' user maps to */
  gid_t secrets_gid;
  char **constraints; /* OpenFaaS's placement rules: kept, not applied (one host) */
  bool requests_given; /* OpenFaaS's reservations: kept, not applied */
  rfd_network_t network;
  bool egress_private; /* isolated: private ranges reachable too (egress "all") */
  char **dns;          /* isolated: its resolvers; NULL: runfd's */

  char *digest; /* of the image's manifest */
  json_t *deploy; /* the deploy request as stored */
  int64_t created_at; /* when this version was deployed: seconds since the epoch */
  char **command; /* what the instances run (the image's, or cmd) */
  char **warnings; /* limits that are not applied, and why */
  char *failing;   /* why it does not serve (its address is taken...); NULL when it does */
  rfd_timer_t retry_timer;
  uint64_t retry_delay;
  bool preparing; /* a worker prepares its image again */

  struct in_addr addr;
  int port;
  rfd_watch_t listen_w;
  /* Its network namespace (not host): held by a small process, shared by
     its instances (network.c). */
  pid_t net_holder;
  int net_holder_pidfd;
  rfd_watch_t connector_w;   /* http mode: the holder makes the connections to its instances */
  int netns_fd;              /* as root: given to the spawners, entered for each clone */
  struct in_addr net_addr;   /* isolated: its address on the bridge */
  pid_t net_slirp;           /* rootless isolated: its slirp4netns */
  char *net_dir;             /* isolated: run/net/NAME.ID, its resolv.conf and hosts (the
                                instances read them, as unprivileged ids) */
  char *dir;      /* run/fn/NAME.ID: config.json (0700: it holds the environment) */
  char *sock_dir; /* run/sock/NAME.ID: control.sock, reachable by the instances */
  rfd_log_t *log;
  rfd_watch_t control_w; /* control-socket mode */

  bool removing; /* gone once its last instance is */
  rfd_instance_t *ready; /* created (pre-started: up), waiting for a request */
  rfd_instance_t *starting; /* pre-started: started, not up yet */
  int n_ready, n_creating, n_running, n_starting;
  int start_failures;     /* pre-started instances in a row that never came up */
  uint64_t backoff_until; /* no new instance before, after such failures */
  double start_avg;       /* pre-started: seconds from START to ready, smoothed */
  char *start_problem;    /* the last failure to come up, until one does */
  int n_dying; /* killed out of the pool, not yet reaped */
  rfd_instance_t *running;
  rfd_conn_t *queue_head, *queue_tail;
  int n_queued;
  int target; /* how many to keep ready */
  double rate; /* requests/s, smoothed */
  uint64_t last_request;
  rfd_timer_t pool_timer;

  /* metrics */
  uint64_t requests[RFD_REQ_N]; /* by outcome: handed over (2xx), or runfd's answer */
  uint64_t invocations; /* connections routed to it, each once */
  uint64_t cold_starts;
  rfd_histogram_t cold_hist, latency_hist;
  rfd_histogram_t request_hist; /* accept to the instance's exit */
  rfd_histogram_t create_hist;  /* CREATE to CREATED, in the spawner */
  uint64_t create_failures;
  uint64_t create_failure_logged_at;
  uint64_t oom_kills;
};

/* The deploy request and the container config (fnspec.c): pure, no I/O
   but the image's root for the command's check. */

/* Defaults that bound what one client or one function can hold (see
   docs/functions.md, Limits). */
#define RFD_DEFAULT_MEMORY (256LL << 20)
#define RFD_DEFAULT_PIDS 256
#define RFD_DEFAULT_CONCURRENCY 64
#define RFD_DEFAULT_QUEUE 64
#define RFD_DEFAULT_TIMEOUT (30 * RFD_S)
#define RFD_DEFAULT_IDLE (60 * RFD_S)
#define RFD_DEFAULT_START_TIMEOUT (10 * RFD_S)
#define RFD_DEFAULT_HTTP_PORT 8080
#define RFD_POOL_BUDGET 256
#define RFD_DURATION_MAX (24 * 3600 * RFD_S)

/* What the container config depends on besides the deploy. */
typedef struct
{
  bool rootless;
  uint32_t uid_base, uid_size, gid_base, gid_size; /* as root */
  uint32_t host_uid, host_gid;                     /* rootless: the caller */
  const char *dev_template; /* as root: the spawners' /dev; NULL: a tmpfs each */
  const char *shim_path;
  const char *control_sock; /* control-socket mode: its path on the host */
  const char *secrets_dir;  /* this function's secrets, bound read-only into its instances */
  unsigned limits_ok;       /* RFD_LIMIT_* that cgroups can apply here */
  uint64_t nofile_soft, nofile_hard; /* the instances' RLIMIT_NOFILE */
} rfd_config_opts_t;

/* The fields of a deploy request into fn; errors name the field.  strict:
   a field runfd does not know is an error (a stored record of an older
   runfd is read leniently: such a field is left out, with a warning). */
int rfd_function_parse (json_t *req, rfd_function_t *fn, bool strict, rf_error_t *err);
/* The image's config (from rf_bundle_config) made into a function
   instance's. */
int rfd_function_config (const rfd_function_t *fn, const rfd_config_opts_t *o, json_t *config, rf_error_t *err);
/* The config's network part, once fn's namespace exists: isolated, its
   resolv.conf and hosts; rootless, the namespaces to join. */
void rfd_config_network (const rfd_function_t *fn, json_t *config);
/* The command of a function's config (without the stdio shim), as a new
   strv. */
char **rfd_config_command (json_t *config, rfd_mode_t mode);
/* The config's command must name an executable file of the image (root_fd):
   an absolute path, or a name found on the config's PATH. */
int rfd_config_check_command (json_t *config, rfd_mode_t mode, int root_fd, rf_error_t *err);
const char *rfd_mode_name (rfd_mode_t mode);
/* Where instances find their secrets (OpenFaaS's path, then Docker's). */
extern const char *const rfd_secrets_paths[2];
/* OpenFaaS's name for the one namespace runfd has. */
extern const char rfd_namespace[];
/* 1-63 of a-z A-Z 0-9 . _ -, the first a letter or digit: a file name. */
bool rfd_secret_name_valid_p (const char *s);
const char *rfd_network_name (rfd_network_t net);
/* Requests one instance of the mode serves: 1 (a fresh container each) or
   0 (no bound: warm). */
int rfd_requests_per_instance (rfd_mode_t mode);

extern rfd_function_t *rfd_functions;
rfd_function_t *rfd_function_find (const char *name);

/* Deploy (or replace) from an API request object: checked at once (errors
   name the field), then the image is prepared by a worker process and
   done() is called with the outcome (err owned by the callee). */
typedef void (*rfd_deploy_done) (void *ctx, rf_error_t err, rfd_function_t *fn);
int rfd_function_deploy (json_t *req, bool replace, rfd_deploy_done done, void *ctx, rf_error_t *err);
int rfd_control_listen (rfd_function_t *fn, rf_error_t *err);
int rfd_function_remove (const char *name, rf_error_t *err);
/* Keep at least replicas instances (ready ones in pools, running ones in
   warm mode); recorded, so a restart keeps it. */
int rfd_function_scale (rfd_function_t *fn, int replicas, rf_error_t *err);
json_t *rfd_function_json (const rfd_function_t *fn);
int rfd_functions_load (rf_error_t *err);
void rfd_function_release (rfd_function_t *fn);
/* Something about an instance of fn that its log must say (an exec that
   failed, an OOM kill, a timeout...), with a timestamp. */
void rfd_function_event (rfd_function_t *fn, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* --- function logs (fnlog.c) ----------------------------------------------- */

/* One per function name, shared by its versions: the instances write to a
   pipe; runfd copies it to STATE/logs/NAME.log in bounded bites, rotating
   at --log-max by a rename. */
rfd_log_t *rfd_log_get (const char *name, rf_error_t *err);
void rfd_log_put (rfd_log_t *log);
/* The write end the instances' stdout and stderr get. */
int rfd_log_write_fd (const rfd_log_t *log);
void rfd_log_event (rfd_log_t *log, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void rfd_log_eventv (rfd_log_t *log, const char *fmt, va_list ap);
/* Serve GET /system/logs on fd (owned from here): the log of name, its
   last tail lines (tail < 0: all), then what comes while follow; as
   OpenFaaS's JSON lines or as the file's text; lines from since_ms on
   (milliseconds since the epoch; 0: all). */
void rfd_logs_serve (int fd, const char *name, long tail, bool follow, bool json, int64_t since_ms);
/* An RFC 3339 time as milliseconds since the epoch, or -1. */
int64_t rfd_logs_parse_since (const char *s);

/* --- secrets (secrets.c) -------------------------------------------------- */

#define RFD_SECRET_MAX (512 * 1024)
bool rfd_secret_exists_p (const char *name);
/* Create (EEXIST if it is there) or update (ENOENT if not) a secret; the
   functions that use it see the new value. */
int rfd_secret_put (const char *name, const void *data, size_t len, bool create, rf_error_t *err);
/* EBUSY while a function uses it. */
int rfd_secret_remove (const char *name, rf_error_t *err);
/* [{"name": ..., "namespace": ...}], without values. */
json_t *rfd_secrets_list (void);
/* fn's secrets copied for its instances (fn->secrets_dir); undone. */
int rfd_secrets_install (rfd_function_t *fn, rf_error_t *err);
void rfd_secrets_uninstall (rfd_function_t *fn);
/* Every function's copies gone (at start and at stop). */
void rfd_secrets_sweep (void);

/* --- workers (worker.c) ---------------------------------------------------- */

/* fork() for a worker that runs library code off the loop (deploys,
   imports): in the child (0 returned) every fd but stdio, keep and the log
   is closed, the signal mask is cleared, and it dies with runfd. */
pid_t rfd_worker_fork (int keep, rf_error_t *err);

/* --- connections and dispatch (listener.c, dispatch.c) ------------------- */

typedef enum { RFD_CONN_FUNCTION, RFD_CONN_GATEWAY, RFD_CONN_API } rfd_conn_kind_t;

struct rfd_conn
{
  rfd_watch_t w;
  rfd_conn_kind_t kind;
  rfd_function_t *fn;
  uint32_t fn_id;   /* fn->id when fn was set: still the same function? */
  bool via_gateway;
  uint64_t accepted;
  rfd_timer_t deadline;
  rfd_conn_t *next; /* in a function's queue */
};

int rfd_listen_tcp (struct in_addr addr, int port, rf_error_t *err);
int rfd_gateway_start (const char *spec, rf_error_t *err);
void rfd_gateway_close (void);
/* A listener of runfd's own (the gateway, the API) that rests with the
   others when fds run out. */
void rfd_listener_register (rfd_watch_t *w);
/* accept() failed for want of fds (EMFILE, ENFILE): every listener rests
   a moment. */
void rfd_accept_pause (int error);
bool rfd_accept_paused_p (void);
void rfd_function_listen (rfd_function_t *fn, int fd);
/* A connection whose request line is in: route it. */
void rfd_conn_route (rfd_conn_t *c, const char *target, size_t target_len);
void rfd_conn_wait_request (rfd_conn_t *c);
/* Close after the last answer: shut down writing, drop what the client
   still sends for a moment, then close (no reset to lose the answer). */
void rfd_linger_close (int fd);
/* A connection whose last request is answered: wait for its next. */
void rfd_conn_again (int fd, rfd_conn_kind_t kind, rfd_function_t *fn);
/* Answer with a short error response and close. */
void rfd_conn_fail (rfd_conn_t *c, int status, const char *body);
void rfd_conn_free (rfd_conn_t *c);

void rfd_dispatch (rfd_function_t *fn, rfd_conn_t *c);
void rfd_pool_adjust (rfd_function_t *fn);
void rfd_pool_drain (rfd_function_t *fn);
void rfd_warm_watch (rfd_function_t *fn);

/* --- instances and the spawner (spawner.c) -------------------------------- */

struct rfd_instance
{
  rfd_instance_t *next;
  rfd_function_t *fn;
  uint64_t id;
  pid_t pid;
  rfd_watch_t sync_w;  /* the sync socket: START goes out, EOF or error come back */
  int pidfd;
  int client_fd;       /* a dup of the handed-over socket, for 502/504 */
  /* Pre-started, once up: its connection to /control.sock (control-socket)
     or to its server (http), until a request takes it. */
  rfd_watch_t held_w;
  bool prestarted;
  bool connecting;     /* http: held_w is a connect in progress */
  bool retired;        /* served its last request: runfd ended it */
  bool start_failed;   /* pre-started: never came up, said and counted */
  int served;          /* requests it has taken */
  rfd_timer_t probe;   /* http: the next try to connect to its server */
  uint64_t probe_delay;
  bool via_gateway;
  /* Through the gateway: the handler's socket is one end of a socketpair,
     and this relays its one request (relay.c). */
  struct rfd_relay *relay;
  rfd_conn_kind_t relay_kind;
  uint64_t requested, created, started;
  uint64_t up_at;      /* pre-started: when it became ready */
  uint64_t accepted; /* its client's connection, when it has one */
  rfd_timer_t timeout;
  int spawner; /* which one made it */
  bool timed_out, exec_failed, exited;
  bool oom_killed; /* its memory cgroup says so */
  bool lost;       /* went with its spawner */
  uint64_t cpu_ticks; /* warm mode: activity */
  uint64_t busy_at;
  uint64_t term_at; /* warm: asked to stop */
};

/* The spawners runfd starts without --spawners: two per CPU it may run
   on, 2 to 64.  --spawners takes up to RFD_SPAWNERS_MAX. */
#define RFD_SPAWNERS_MAX 256
int rfd_spawners_default (void);
int rfd_spawner_start (rf_error_t *err);
void rfd_spawner_stop (void);
/* Tell the spawner about fn (its config and log); again after a change. */
int rfd_spawner_define (rfd_function_t *fn, rf_error_t *err);
void rfd_spawner_forget (rfd_function_t *fn);
/* Spawners started again after one died. */
uint64_t rfd_spawner_restarts (void);
/* Ask for one more created instance of fn; rfd_instance_ready or
   rfd_instance_failed follows. */
void rfd_spawner_create (rfd_function_t *fn);
void rfd_instance_ready (rfd_instance_t *inst);
void rfd_instance_failed (rfd_function_t *fn, const char *why);
void rfd_instance_exited (rfd_instance_t *inst, int status);
/* A pre-started control-socket instance (its pid, as the kernel vouches)
   connected to /control.sock: fd is that connection (owned from here). */
void rfd_control_connected (rfd_function_t *fn, pid_t pid, int fd);
/* http: the connection the holder made to inst's server (-1 and the
   error when it could not). */
void rfd_instance_connected (rfd_function_t *fn, uint64_t inst_id, int fd, int error);
void rfd_instance_kill (rfd_instance_t *inst, int sig);
void rfd_instance_free (rfd_instance_t *inst);

/* --- function networks (network.c) ---------------------------------------- */

/* At start: remove what a runfd of this state directory left (its bridge
   and NAT rules after a kill -9); and check what isolated networks need. */
int rfd_network_init (rf_error_t *err);
/* fn's namespace, made and set up (isolated: on the bridge, NAT, its
   address); fn->netns_fd or fn->net_holder say where. */
int rfd_network_start (rfd_function_t *fn, rf_error_t *err);
void rfd_network_stop (rfd_function_t *fn);
/* http: ask fn's holder for a connection to inst's server, made in inst's
   network namespace; rfd_instance_connected follows. */
int rfd_network_connect (rfd_instance_t *inst);
/* At exit: the bridge and the rules go. */
void rfd_network_shutdown (void);

/* --- admin API (api.c), metrics (metrics.c) ------------------------------- */

/* Socket activation: take fd 3 when LISTEN_PID and LISTEN_FDS say it is
   runfd's (1), else nothing (0); the variables are unset either way.  Call
   before anything is started. */
int rfd_api_inherit (rf_error_t *err);
int rfd_api_start (const char *spec, rf_error_t *err);
void rfd_api_close (void);
void rfd_api_accept_conn (rfd_conn_t *c);
void rfd_histogram_add (rfd_histogram_t *h, double seconds);
char *rfd_metrics_text (void);
/* The asynchronous calls' part of /metrics (async.c). */
char *rfd_async_metrics_text (void);

/* --- the daemon's configuration (main.c) ---------------------------------- */

typedef struct
{
  char *state_dir; /* persistent: functions/ */
  char *run_dir;   /* runtime: fn/<name>/, spawner state */
  char *store;     /* image store */
  bool rootless;
  struct in_addr range_base;
  uint32_t range_size;
  int function_port;
  uint32_t uid_base, uid_size; /* host ids the instances' root maps to */
  uint32_t gid_base, gid_size;
  char *shim_path;
  char *spawner_path;
  char *cgroup_parent; /* runfd/<key of the state directory>: this daemon's instances */
  char *dev_template;  /* as root: run/dev, each spawner's /dev for its instances */
  const char *log_file; /* --log, for the spawner too */
  uint64_t request_line_timeout;
  size_t request_line_max;
  int64_t log_max; /* bytes a function's log may grow to before rotation; 0: never */
  int max_instances; /* instances serving requests at once, all functions together */
  int pool_budget;   /* instances made ahead (created or pre-started), all functions together */
  int spawners;      /* --spawners; 0: rfd_spawners_default () */
  unsigned limits_ok; /* RFD_LIMIT_* that the instances' cgroups can apply */
  uint64_t nofile_soft, nofile_hard; /* RLIMIT_NOFILE as runfd was started */
  char *lock_path;   /* the state directory's lock, held while runfd runs */
  /* Isolated networks (network.c). */
  char *bridge;            /* the bridge's name (runf0) */
  struct in_addr bridge_base; /* the instances' range (10.88.0.0/16) */
  uint32_t bridge_size;
  char *uplink;            /* where NAT sends egress; NULL: the default route's */
  char **dns;              /* the resolvers isolated functions get */
  rfd_network_t default_network;
  bool draining;
  int exit_status; /* non-zero after a fatal error */
} rfd_config_t;

extern rfd_config_t rfd_config;

#endif
