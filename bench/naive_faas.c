/* naive_faas: the seed FaaS design, as a baseline for runfd.
 *
 *   naive_faas -b BUNDLE [-p PORT] [-P PORTFILE] [-r CRUN_ROOT] [-C CRUN] [-j MAX_CHILDREN]
 *
 * Listens on 127.0.0.1:PORT (0, the default, takes a free port; PORTFILE
 * then gets it).  Per accepted connection it runs
 *
 *     crun --root CRUN_ROOT run --preserve-fds 1 --bundle BUNDLE naive-<pid>-<n>
 *
 * with the connection as fd 3 (stdin and stdout /dev/null), so every
 * request pays for a whole container: crun's exec, namespaces, mounts,
 * pivot_root, and the handler.  The bundle's config.json runs a handler
 * in inetd mode on fd 3 (bench/faas-naive.sh makes one from the hello
 * example).  Children are reaped as they exit; a container that crun
 * left behind (it was killed, say) is deleted with `crun delete -f`.  At
 * most MAX_CHILDREN (default 64) run at once: beyond that, connections
 * wait in the listen backlog.  SIGTERM or SIGINT: stop accepting, wait
 * for the children, exit. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct
{
  pid_t pid;
  bool cleanup; /* a `crun delete`, not a request */
  char id[64];
} child_t;

static struct
{
  const char *bundle, *root, *crun;
  child_t *children;
  int max_children, n_children;
  unsigned long served, failed, leftovers;
} nf = { .root = "/run/naive-faas", .crun = "crun", .max_children = 64 };

static volatile sig_atomic_t stopping;

static void
on_signal (int sig)
{
  if (sig != SIGCHLD)
    stopping = 1;
}

static void __attribute__ ((noreturn))
die (const char *what)
{
  fprintf (stderr, "naive_faas: %s: %s\n", what, strerror (errno));
  exit (1);
}

static void
add_child (pid_t pid, bool cleanup, const char *id)
{
  child_t *c = &nf.children[nf.n_children++];
  c->pid = pid;
  c->cleanup = cleanup;
  snprintf (c->id, sizeof c->id, "%s", id);
}

/* fork + exec argv with fd 3 = conn (when >= 0), stdin/stdout /dev/null. */
static pid_t
spawn (char **argv, int conn)
{
  pid_t pid = fork ();

  if (pid != 0)
    return pid;
  {
    int null = open ("/dev/null", O_RDWR);
    sigset_t none;
    if (null < 0 || dup2 (null, 0) < 0 || dup2 (null, 1) < 0)
      _exit (127);
    if (conn >= 0 && (conn == 3 ? fcntl (3, F_SETFD, 0) : dup2 (conn, 3)) < 0)
      _exit (127);
    signal (SIGPIPE, SIG_DFL);
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    execvp (argv[0], argv);
    _exit (127);
  }
}

static void
delete_container (const char *id)
{
  char *argv[] = { (char *) nf.crun, "--root", (char *) nf.root, "delete", "-f", (char *) id, NULL };
  pid_t pid = spawn (argv, -1);
  if (pid > 0)
    add_child (pid, true, id);
}

static void
reap (bool block)
{
  for (;;)
    {
      int status;
      pid_t pid = waitpid (-1, &status, block ? 0 : WNOHANG);
      if (pid <= 0)
        return;
      for (int i = 0; i < nf.n_children; i++)
        if (nf.children[i].pid == pid)
          {
            child_t c = nf.children[i];
            char state[4096];
            struct stat st;

            nf.children[i] = nf.children[--nf.n_children];
            if (c.cleanup)
              break;
            if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
              nf.served++;
            else
              nf.failed++;
            /* crun run deletes its container when it ends normally. */
            snprintf (state, sizeof state, "%s/%s", nf.root, c.id);
            if (stat (state, &st) == 0)
              {
                nf.leftovers++;
                delete_container (c.id);
              }
            break;
          }
      block = false;
    }
}

int
main (int argc, char **argv)
{
  struct sockaddr_in addr = { .sin_family = AF_INET };
  struct sigaction sa = { .sa_handler = on_signal };
  const char *portfile = NULL;
  unsigned long seq = 0;
  int port = 0, opt, s, one = 1;
  socklen_t len = sizeof addr;

  while ((opt = getopt (argc, argv, "b:p:P:r:C:j:")) != -1)
    switch (opt)
      {
      case 'b': nf.bundle = optarg; break;
      case 'p': port = atoi (optarg); break;
      case 'P': portfile = optarg; break;
      case 'r': nf.root = optarg; break;
      case 'C': nf.crun = optarg; break;
      case 'j': nf.max_children = atoi (optarg); break;
      default: goto usage;
      }
  if (nf.bundle == NULL || optind != argc || nf.max_children < 1)
    {
    usage:
      fprintf (stderr, "usage: naive_faas -b BUNDLE [-p PORT] [-P PORTFILE] [-r CRUN_ROOT] [-C CRUN]"
                       " [-j MAX_CHILDREN]\n");
      return 2;
    }
  /* Room for every request child plus a cleanup each. */
  nf.children = calloc ((size_t) nf.max_children * 2, sizeof *nf.children);
  if (nf.children == NULL)
    die ("calloc");

  /* No SA_RESTART: a signal interrupts accept(), so children are reaped
     and a stop is seen while the listener waits. */
  sigaction (SIGCHLD, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);

  s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  addr.sin_port = htons ((uint16_t) port);
  setsockopt (s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (s < 0 || bind (s, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (s, 1024) < 0)
    die ("listen on 127.0.0.1");
  getsockname (s, (struct sockaddr *) &addr, &len);
  if (portfile)
    {
      char tmp[4096];
      FILE *f;
      snprintf (tmp, sizeof tmp, "%s.tmp", portfile);
      if ((f = fopen (tmp, "w")) == NULL || fprintf (f, "%u\n", ntohs (addr.sin_port)) < 0 || fclose (f) != 0
          || rename (tmp, portfile) < 0)
        die (portfile);
    }
  fprintf (stderr, "naive_faas: listening on 127.0.0.1:%u\n", ntohs (addr.sin_port));

  while (!stopping)
    {
      char id[64];
      char *run[] = { (char *) nf.crun, "--root", (char *) nf.root, "run", "--preserve-fds", "1",
                      "--bundle", (char *) nf.bundle, id, NULL };
      int c;
      pid_t pid;

      reap (false);
      if (nf.n_children >= nf.max_children)
        {
          reap (true);
          continue;
        }
      c = accept4 (s, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          die ("accept");
        }
      snprintf (id, sizeof id, "naive-%d-%lu", (int) getpid (), ++seq);
      pid = spawn (run, c);
      if (pid < 0)
        nf.failed++;
      else
        add_child (pid, false, id);
      close (c);
    }
  close (s);
  while (nf.n_children > 0)
    reap (true);
  fprintf (stderr, "naive_faas: %lu served, %lu failed, %lu containers left behind and deleted\n", nf.served,
           nf.failed, nf.leftovers);
  return 0;
}
