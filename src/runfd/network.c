/* Function networks (docs/functions.md, Networks; docs/security.md).
 *
 * A function that is not on the host's network gets one network namespace,
 * made when it is deployed and shared by all its instances: making one per
 * instance would double what a fresh container costs (the kernel's
 * namespace setup and, worse, its teardown), while a request still gets a
 * fresh container in every other respect.  A small process holds the
 * namespace ("runfd-netns", a child of runfd that only waits); as root the
 * spawners enter it for each clone (two setns), rootless the instances
 * join it, and its user namespace, by path.
 *
 *   none      the namespace has lo alone: the handed-over socket is the
 *             handler's only way out, and nothing can reach in.
 *   isolated  as root, a veth pair to runfd's bridge (runf-<6 hex digits of the key>),
 *             an address of the bridge's range, a default route through
 *             the bridge, NAT (masquerade) to the uplink; nftables rules
 *             keep it from the host's own addresses and, unless its egress
 *             is "all", from private ranges; the bridge's ports are
 *             isolated from each other.  Rootless, slirp4netns gives the
 *             namespace its way out, with the host's loopback disabled.
 *   host      the host's namespace, as runf's seeds had it.
 *
 * The ip, nft and slirp4netns commands run when a function is deployed or
 * removed, never on the request path. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/fds.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/netif.h"
#include "runfd.h"
#include "common/syscalls.h"

static bool bridge_up;   /* made by this runfd */
static char *nft_table;  /* "runfd_<key>": this daemon's rules */

/* --- running ip, nft, slirp4netns ------------------------------------------ */

/* Run argv with input on its stdin (NULL: none) in the network namespace
   of pid (0: runfd's own), and wait; its stderr's first line becomes the
   error. */
static int
run_tool (char *const argv[], const char *input, pid_t netns_of, rf_error_t *err)
{
  int in[2], out[2];
  pid_t pid;
  int status;
  char msg[512];
  ssize_t n = 0;

  if (pipe2 (in, O_CLOEXEC) < 0 || pipe2 (out, O_CLOEXEC) < 0)
    return rf_error_sys (err, "pipe");
  pid = fork ();
  if (pid < 0)
    return rf_error_sys (err, "fork");
  if (pid == 0)
    {
      static const int keep[] = { 0, 1, 2 };
      sigset_t none;
      /* Nothing of runfd's but the pipes, which become its stdio. */
      dup2 (in[0], STDIN_FILENO);
      dup2 (out[1], STDOUT_FILENO);
      dup2 (out[1], STDERR_FILENO);
      rf_fds_close_except (keep, 3);
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      signal (SIGPIPE, SIG_DFL);
      /* Rootless, the namespace belongs to the holder's user namespace,
         where the tool is root. */
      for (int i = rfd_config.rootless ? 0 : 1; netns_of > 0 && i < 2; i++)
        {
          char path[64];
          int fd;
          snprintf (path, sizeof path, "/proc/%d/ns/%s", (int) netns_of, i == 0 ? "user" : "net");
          fd = open (path, O_RDONLY | O_CLOEXEC);
          if (fd < 0 || setns (fd, i == 0 ? CLONE_NEWUSER : CLONE_NEWNET) < 0)
            {
              dprintf (STDERR_FILENO, "enter the function's namespaces: %s", strerror (errno));
              _exit (127);
            }
        }
      execvp (argv[0], argv);
      dprintf (STDERR_FILENO, "%s", strerror (errno));
      _exit (127);
    }
  close (in[0]);
  close (out[1]);
  if (input)
    rf_write_all (in[1], input, strlen (input));
  close (in[1]);
  for (size_t got = 0; got < sizeof msg - 1; got += (size_t) n)
    {
      n = read (out[0], msg + got, sizeof msg - 1 - got);
      if (n <= 0)
        {
          msg[got] = '\0';
          break;
        }
      msg[got + (size_t) n] = '\0';
    }
  close (out[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  msg[strcspn (msg, "\n")] = '\0';
  return rf_error_make (err, 0, "%s: %s", argv[0], *msg ? msg : "failed");
}

/* --- the namespace's holder ------------------------------------------------ */

/* What runfd and the holder say to each other (http mode): one
   SOCK_SEQPACKET message each way, the instance's pidfd going, the
   connection coming back. */
typedef struct
{
  uint64_t inst;
  int32_t pid;  /* for kernels without setns on a pidfd */
  int32_t port; /* asked: the server's; answered: 0 */
  int32_t error;
} connect_msg_t;

/* The holder connects to 127.0.0.1:port in the network namespace of the
   process whose pidfd comes with each message, and gives the socket back
   (connecting, without waiting: runfd waits, not the holder).  It may
   enter that namespace: as root anyway, rootless because the instance's
   namespace belongs to the holder's user namespace, where it is root. */
static void
connect_for (int sock, int self_net, connect_msg_t *m, int pidfd)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) m->port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = -1;

  m->error = 0;
  if (setns (pidfd, CLONE_NEWNET) == 0)
    ;
  else if (errno != EINVAL)
    m->error = errno; /* the instance is gone: its pid may be another's now */
  else
    {
      /* A kernel without setns on a pidfd (before 5.8): by its pid, which
         the pidfd still held when this was asked. */
      char path[64];
      int ns;
      snprintf (path, sizeof path, "/proc/%d/ns/net", (int) m->pid);
      ns = open (path, O_RDONLY | O_CLOEXEC);
      if (ns < 0 || setns (ns, CLONE_NEWNET) < 0)
        m->error = errno;
      if (ns >= 0)
        close (ns);
    }
  if (m->error == 0)
    {
      fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0)
        m->error = errno;
      else if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0 && errno != EINPROGRESS)
        {
          m->error = errno;
          close (fd);
          fd = -1;
        }
      if (setns (self_net, CLONE_NEWNET) < 0)
        _exit (1); /* never to make a socket in the wrong place */
    }
  m->port = 0;
  if (rf_send_fds (sock, m, sizeof *m, &fd, fd >= 0 ? 1 : 0) < 0 && errno != EAGAIN)
    _exit (0);
  if (fd >= 0)
    close (fd);
}

/* The child that holds the namespace: made, set up, then it waits (and
   makes the connections of an http function's instances). */
static void __attribute__ ((noreturn))
holder_main (int sock)
{
  char ok = 'y';
  int self_net;
  if (rfd_config.rootless)
    {
      /* An unprivileged process may make a network namespace only in a
         user namespace of its own, where it maps its own ids. */
      uid_t uid = geteuid ();
      gid_t gid = getegid ();
      char map[64];
      if (unshare (CLONE_NEWUSER | CLONE_NEWNET) < 0)
        goto fail;
      snprintf (map, sizeof map, "0 %u 1", (unsigned) uid);
      if (rf_write_file_at (AT_FDCWD, "/proc/self/uid_map", map, strlen (map), NULL) < 0
          || rf_write_file_at (AT_FDCWD, "/proc/self/setgroups", "deny", 4, NULL) < 0)
        goto fail;
      snprintf (map, sizeof map, "0 %u 1", (unsigned) gid);
      if (rf_write_file_at (AT_FDCWD, "/proc/self/gid_map", map, strlen (map), NULL) < 0)
        goto fail;
    }
  else if (unshare (CLONE_NEWNET) < 0)
    goto fail;
  /* A handler may talk to itself. */
  if (rf_netif_up ("lo", NULL) < 0)
    goto fail;
  self_net = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self_net < 0)
    goto fail;
  prctl (PR_SET_NAME, "runfd-netns", 0, 0, 0);
  if (write (sock, &ok, 1) != 1)
    _exit (1);
  for (;;)
    {
      connect_msg_t m;
      int pidfd = -1;
      struct pollfd p = { .fd = sock, .events = POLLIN };
      ssize_t n;
      if (poll (&p, 1, -1) < 0)
        continue;
      n = rf_recv_fds (sock, &m, sizeof m, &pidfd, 1);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n != (ssize_t) sizeof m || pidfd < 0)
        {
          if (pidfd >= 0)
            close (pidfd);
          if (n > 0)
            continue;
          break; /* runfd asks nothing more: it only holds now */
        }
      connect_for (sock, self_net, &m, pidfd);
      close (pidfd);
    }
  for (;;)
    pause ();
fail:
  ok = 'n';
  dprintf (sock, "%c%s", ok, strerror (errno));
  _exit (1);
}

/* The holder's answer: the connection to an instance's server. */
static void
on_connector (rfd_watch_t *w, uint32_t events)
{
  rfd_function_t *fn = w->data;
  for (;;)
    {
      connect_msg_t m;
      int fd = -1;
      ssize_t n = rf_recv_fds (w->fd, &m, sizeof m, &fd, 1);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
      if (n != (ssize_t) sizeof m)
        {
          if (fd >= 0)
            close (fd);
          if (n > 0)
            continue;
          /* The holder is gone: its instances' probes fail from here. */
          rfd_watch_close (w);
          return;
        }
      rfd_instance_connected (fn, m.inst, fd, m.error);
    }
}

int
rfd_network_connect (rfd_instance_t *inst)
{
  rfd_function_t *fn = inst->fn;
  connect_msg_t m = { .inst = inst->id, .pid = (int32_t) inst->pid, .port = fn->http_port };
  if (fn->connector_w.fd < 0 || inst->pidfd < 0)
    return -1;
  return rf_send_fds (fn->connector_w.fd, &m, sizeof m, &inst->pidfd, 1) < 0 ? -1 : 0;
}

static int
holder_start (rfd_function_t *fn, rf_error_t *err)
{
  int p[2];
  char buf[256];
  ssize_t n;
  pid_t pid;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) < 0)
    return rf_error_sys (err, "socketpair");
  pid = rfd_worker_fork (p[1], err);
  if (pid < 0)
    {
      close (p[0]);
      close (p[1]);
      return -1;
    }
  if (pid == 0)
    holder_main (p[1]);
  close (p[1]);
  do
    n = read (p[0], buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  if (n <= 0 || buf[0] != 'y')
    {
      buf[n > 0 ? n : 0] = '\0';
      close (p[0]);
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return rf_error_make (err, 0, "make its network namespace: %s", n > 1 ? buf + 1 : "the holder died");
    }
  fn->net_holder = pid;
  fn->net_holder_pidfd = rf_pidfd_open (pid);
  if (fn->mode == RFD_MODE_HTTP)
    {
      /* It makes the connections to the instances' servers. */
      fcntl (p[0], F_SETFL, O_NONBLOCK);
      fn->connector_w.fd = p[0];
      fn->connector_w.fn = on_connector;
      fn->connector_w.data = fn;
      rfd_watch_add (&fn->connector_w, EPOLLIN);
    }
  else
    close (p[0]);
  if (!rfd_config.rootless)
    {
      char path[64];
      snprintf (path, sizeof path, "/proc/%d/ns/net", (int) pid);
      fn->netns_fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fn->netns_fd < 0)
        return rf_error_sys (err, "open `%s`", path);
    }
  return 0;
}

/* --- the bridge and the rules (isolated, as root) --------------------------- */

static char *
addr_text (struct in_addr a)
{
  char buf[INET_ADDRSTRLEN];
  return xstrdup (inet_ntop (AF_INET, &a, buf, sizeof buf));
}

static int
prefix_len (void)
{
  int bits = 32;
  for (uint32_t s = rfd_config.bridge_size; s > 1; s >>= 1)
    bits--;
  return bits;
}

static struct in_addr
bridge_addr (uint32_t index)
{
  struct in_addr a = { htonl (ntohl (rfd_config.bridge_base.s_addr) + index) };
  return a;
}

/* The uplink: as given, else the interface of the default route. */
static char *
find_uplink (void)
{
  cleanup_fclose FILE *f = NULL;
  char line[512];
  if (rfd_config.uplink)
    return xstrdup (rfd_config.uplink);
  f = fopen ("/proc/net/route", "re");
  while (f && fgets (line, sizeof line, f))
    {
      char iface[64];
      unsigned long dest, mask;
      if (sscanf (line, "%63s %lx %*x %*x %*d %*d %*d %lx", iface, &dest, &mask) == 3 && dest == 0 && mask == 0)
        return xstrdup (iface);
    }
  return NULL;
}

static int
bridge_setup (rf_error_t *err)
{
  cleanup_free char *gw = NULL;
  cleanup_free char *range = NULL;
  cleanup_free char *uplink = NULL;
  cleanup_free char *ip_cmds = NULL;
  cleanup_free char *rules = NULL;
  char *const ip_argv[] = { (char *) "ip", (char *) "-batch", (char *) "-", NULL };
  char *const nft_argv[] = { (char *) "nft", (char *) "-f", (char *) "-", NULL };

  if (bridge_up)
    return 0;
  uplink = find_uplink ();
  if (uplink == NULL)
    return rf_error_make (err, 0, "isolated networks: no uplink (no default route here); give runfd --uplink IFACE");
  gw = addr_text (bridge_addr (1));
  range = xasprintf ("%s/%d", addr_text (rfd_config.bridge_base), prefix_len ());
  if (rf_write_file_at (AT_FDCWD, "/proc/sys/net/ipv4/ip_forward", "1", 1, err) < 0)
    return rf_error_wrap (err, "isolated networks: turn on IPv4 forwarding");
  if (if_nametoindex (rfd_config.bridge) == 0)
    {
      ip_cmds = xasprintf ("link add %s type bridge\naddr add %s/%d dev %s\nlink set %s up\n", rfd_config.bridge, gw,
                           prefix_len (), rfd_config.bridge, rfd_config.bridge);
      if (run_tool (ip_argv, ip_cmds, 0, err) < 0)
        return rf_error_wrap (err, "isolated networks: make the bridge `%s`", rfd_config.bridge);
    }
  /* One table of runfd's: NAT for the bridge's range out of the uplink;
     nothing from the bridge to the host itself (its loopback is not even
     in the functions' namespaces, its other addresses are here) nor to
     another function; private ranges only for functions whose egress is
     "all" (the set `private_ok`). */
  rules = xasprintf ("table ip %s {\n"
                     "  set private_ok { type ipv4_addr; }\n"
                     "  chain input {\n"
                     "    type filter hook input priority filter - 1; policy accept;\n"
                     "    iifname \"%s\" ct state established,related accept\n"
                     "    iifname \"%s\" drop\n"
                     "  }\n"
                     "  chain forward {\n"
                     "    type filter hook forward priority filter - 1; policy accept;\n"
                     "    oifname \"%s\" ct state established,related accept\n"
                     "    oifname \"%s\" drop\n"
                     "    iifname \"%s\" oifname \"%s\" drop\n"
                     "    iifname \"%s\" ip saddr != @private_ok ip daddr { 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, "
                     "127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, 192.168.0.0/16, 224.0.0.0/3 } drop\n"
                     "    iifname \"%s\" ip daddr %s drop\n"
                     "    iifname \"%s\" oifname \"%s\" accept\n"
                     "    iifname \"%s\" drop\n"
                     "  }\n"
                     "  chain postrouting {\n"
                     "    type nat hook postrouting priority srcnat; policy accept;\n"
                     "    ip saddr %s oifname \"%s\" masquerade\n"
                     "  }\n"
                     "}\n",
                     nft_table, rfd_config.bridge, rfd_config.bridge, rfd_config.bridge, rfd_config.bridge,
                     rfd_config.bridge, rfd_config.bridge, rfd_config.bridge, rfd_config.bridge, range,
                     rfd_config.bridge, uplink, rfd_config.bridge, range, uplink);
  if (run_tool (nft_argv, rules, 0, err) < 0)
    return rf_error_wrap (err, "isolated networks: NAT and filter rules");
  bridge_up = true;
  return 0;
}

/* The lowest address of the range no other function has: .1 is the bridge. */
static int
pick_address (rfd_function_t *fn, rf_error_t *err)
{
  for (uint32_t i = 2; i + 1 < rfd_config.bridge_size; i++)
    {
      struct in_addr a = bridge_addr (i);
      bool taken = false;
      for (rfd_function_t *f = rfd_functions; f && !taken; f = f->next)
        taken = f != fn && f->network == RFD_NET_ISOLATED && f->net_addr.s_addr == a.s_addr;
      if (!taken)
        {
          fn->net_addr = a;
          return 0;
        }
    }
  return rf_error_make (err, 0, "isolated networks: the range is full (--bridge-range)");
}

static char *
veth_name (const rfd_function_t *fn)
{
  /* 15 characters at most; the function's id keeps it unique. */
  return xasprintf ("rfv%x", fn->id);
}

static int
attach (rfd_function_t *fn, rf_error_t *err)
{
  char *const ip_argv[] = { (char *) "ip", (char *) "-batch", (char *) "-", NULL };
  char *const nft_argv[] = { (char *) "nft", (char *) "-f", (char *) "-", NULL };
  cleanup_free char *veth = veth_name (fn);
  cleanup_free char *addr = NULL;
  cleanup_free char *gw = addr_text (bridge_addr (1));
  cleanup_free char *outside = NULL;
  cleanup_free char *inside = NULL;

  if (bridge_setup (err) < 0 || pick_address (fn, err) < 0)
    return -1;
  addr = addr_text (fn->net_addr);
  /* A port of the bridge that talks to the uplink, never to another port. */
  outside = xasprintf ("link add %s type veth peer name eth0 netns %d\n"
                       "link set %s master %s\n"
                       "link set dev %s type bridge_slave isolated on\n"
                       "link set %s up\n",
                       veth, (int) fn->net_holder, veth, rfd_config.bridge, veth, veth);
  inside = xasprintf ("addr add %s/%d dev eth0\nlink set eth0 up\nroute add default via %s\n", addr, prefix_len (),
                      gw);
  if (run_tool (ip_argv, outside, 0, err) < 0 || run_tool (ip_argv, inside, fn->net_holder, err) < 0)
    return rf_error_wrap (err, "function `%s`: its isolated network", fn->name);
  if (fn->egress_private)
    {
      cleanup_free char *add = xasprintf ("add element ip %s private_ok { %s }\n", nft_table, addr);
      if (run_tool (nft_argv, add, 0, err) < 0)
        return rf_error_wrap (err, "function `%s`: egress all", fn->name);
    }
  return 0;
}

/* --- rootless: slirp4netns ------------------------------------------------- */

/* slirp4netns connects for the namespace as the user, from the host's
   namespace: with --disable-host-loopback it refuses the host's loopback
   (10.0.2.2), but the host's other addresses and private ranges are as
   reachable as anything else.  Rules in the function's own namespace
   (whose user namespace the holder owns; the instances, without
   CAP_NET_ADMIN there, cannot change them) drop those, the resolver at
   10.0.2.3 excepted. */
static int
slirp_filter (rfd_function_t *fn, rf_error_t *err)
{
  char *const nft_argv[] = { (char *) "nft", (char *) "-f", (char *) "-", NULL };
  cleanup_free char *hosts = xstrdup ("");
  cleanup_free char *rules = NULL;
  struct ifaddrs *ifs = NULL;

  if (getifaddrs (&ifs) == 0)
    {
      for (struct ifaddrs *i = ifs; i; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
          {
            char *more = xasprintf ("%s%s%s", hosts, *hosts ? ", " : "",
                                    addr_text (((struct sockaddr_in *) i->ifa_addr)->sin_addr));
            free (hosts);
            hosts = more;
          }
      freeifaddrs (ifs);
    }
  rules = xasprintf ("table ip runfd {\n"
                     "  chain output {\n"
                     "    type filter hook output priority filter; policy accept;\n"
                     "    oifname \"lo\" accept\n"
                     "    ip daddr 10.0.2.3 udp dport 53 accept\n"
                     "    ip daddr 10.0.2.3 tcp dport 53 accept\n"
                     "    ip daddr 10.0.2.0/24 drop\n"
                     "%s%s%s"
                     "%s"
                     "  }\n"
                     "}\n",
                     *hosts ? "    ip daddr { " : "", hosts, *hosts ? " } drop\n" : "",
                     fn->egress_private ? ""
                                        : "    ip daddr { 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, "
                                          "169.254.0.0/16, 172.16.0.0/12, 192.168.0.0/16, 224.0.0.0/3 } drop\n");
  if (run_tool (nft_argv, rules, fn->net_holder, err) < 0)
    return rf_error_wrap (err, "function `%s`: the rules of its network", fn->name);
  return 0;
}

static int
slirp_start (rfd_function_t *fn, rf_error_t *err)
{
  char pid_text[32], user_path[64];
  cleanup_free char *log_path = xasprintf ("%s/slirp4netns.log", fn->net_dir);
  int ready[2];
  char ch;
  ssize_t n;
  pid_t pid;

  snprintf (pid_text, sizeof pid_text, "%d", (int) fn->net_holder);
  snprintf (user_path, sizeof user_path, "/proc/%d/ns/user", (int) fn->net_holder);
  if (pipe2 (ready, O_CLOEXEC) < 0)
    return rf_error_sys (err, "pipe");
  pid = rfd_worker_fork (ready[1], err);
  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      char fd_text[16];
      /* Its ready fd is the only one it keeps; it ends with the holder's
         namespace (or with runfd, its parent). */
      fcntl (ready[1], F_SETFD, 0);
      snprintf (fd_text, sizeof fd_text, "%d", ready[1]);
      /* Its complaints go to a file the deploy's error quotes. */
      int log = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (log >= 0)
        dup2 (log, STDERR_FILENO);
      execlp ("slirp4netns", "slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback",
              "--userns-path", user_path, "--ready-fd", fd_text, pid_text, "tap0", (char *) NULL);
      _exit (127);
    }
  close (ready[1]);
  do
    n = read (ready[0], &ch, 1);
  while (n < 0 && errno == EINTR);
  close (ready[0]);
  if (n != 1)
    {
      cleanup_free char *said = NULL;
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      if (rf_read_file_at (AT_FDCWD, log_path, 4096, &said, NULL, NULL) == 0 && *said)
        {
          said[strcspn (said, "\n")] = '\0';
          return rf_error_make (err, 0, "function `%s`: slirp4netns: %s%s", fn->name, said,
                                strstr (said, "/dev/net/tun") ? " (rootless isolated networks need /dev/net/tun "
                                                                 "open to the user: mode 0666, as udev makes it)"
                                                              : "");
        }
      return rf_error_make (err, 0, "function `%s`: slirp4netns did not start (is it installed?)", fn->name);
    }
  fn->net_slirp = pid;
  return slirp_filter (fn, err);
}

/* --- resolv.conf and hosts -------------------------------------------------- */

static int
write_resolver_files (rfd_function_t *fn, rf_error_t *err)
{
  cleanup_free char *resolv = xstrdup ("");
  cleanup_free char *parent = xasprintf ("%s/net", rfd_config.run_dir);
  cleanup_free char *resolv_path = NULL;
  cleanup_free char *hosts_path = NULL;
  cleanup_free char *hosts = xasprintf ("127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t%s\n", fn->name);
  char **dns = fn->dns ? fn->dns : rfd_config.dns;
  const char *slirp_dns[] = { "10.0.2.3", NULL };
  cleanup_free char *host_resolv = NULL;

  /* Searchable, not listable: the instances reach their files by path. */
  fn->net_dir = xasprintf ("%s/%s.%u", parent, fn->name, fn->id);
  if (rf_mkdir_p (fn->net_dir, 0711, err) < 0)
    return -1;
  chmod (parent, 0711);
  chmod (fn->net_dir, 0711);
  resolv_path = xasprintf ("%s/resolv.conf", fn->net_dir);
  hosts_path = xasprintf ("%s/hosts", fn->net_dir);
  if (fn->network == RFD_NET_HOST && fn->dns == NULL)
    {
      /* On the host's network, the host's resolvers, its loopback ones
         too. */
      if (rf_read_file_at (AT_FDCWD, "/etc/resolv.conf", 1 << 16, &host_resolv, NULL, NULL) == 0)
        {
          free (resolv);
          resolv = steal_pointer (&host_resolv);
        }
      dns = NULL;
    }
  else if (rfd_config.rootless && fn->dns == NULL)
    dns = (char **) slirp_dns; /* slirp4netns answers there for the host's resolvers */
  for (size_t i = 0; dns && dns[i]; i++)
    {
      char *more = xasprintf ("%snameserver %s\n", resolv, dns[i]);
      free (resolv);
      resolv = more;
    }
  /* Read by the instances (unprivileged host ids): world-readable, in a
     directory they may search. */
  if (rf_write_file_atomic (resolv_path, resolv, strlen (resolv), 0644, err) < 0
      || rf_write_file_atomic (hosts_path, hosts, strlen (hosts), 0644, err) < 0)
    return rf_error_wrap (err, "function `%s`: its resolv.conf", fn->name);
  return 0;
}

/* --- the interface -------------------------------------------------------- */

int
rfd_network_start (rfd_function_t *fn, rf_error_t *err)
{
  if (fn->network == RFD_NET_HOST)
    return fn->net_dir ? 0 : write_resolver_files (fn, err);
  if (fn->net_holder > 0)
    return 0;
  if (holder_start (fn, err) < 0)
    goto fail;
  if (fn->network == RFD_NET_ISOLATED)
    {
      if (write_resolver_files (fn, err) < 0)
        goto fail;
      if ((rfd_config.rootless ? slirp_start (fn, err) : attach (fn, err)) < 0)
        goto fail;
    }
  return 0;

fail:
  rfd_network_stop (fn);
  return -1;
}

void
rfd_network_stop (rfd_function_t *fn)
{
  if (fn->network == RFD_NET_ISOLATED && fn->egress_private && fn->net_addr.s_addr && bridge_up)
    {
      char *const nft_argv[] = { (char *) "nft", (char *) "-f", (char *) "-", NULL };
      cleanup_free char *addr = addr_text (fn->net_addr);
      cleanup_free char *del = xasprintf ("delete element ip %s private_ok { %s }\n", nft_table, addr);
      rf_error_t ignored = NULL;
      run_tool (nft_argv, del, 0, &ignored);
      rf_error_free (&ignored);
    }
  if (fn->net_slirp > 0)
    {
      kill (fn->net_slirp, SIGKILL);
      waitpid (fn->net_slirp, NULL, 0);
    }
  fn->net_slirp = 0;
  /* The namespace (and its end of the veth pair, and so the other) goes
     once its last instance and fd have. */
  if (fn->net_holder > 0)
    {
      if (fn->net_holder_pidfd >= 0)
        rf_pidfd_send_signal (fn->net_holder_pidfd, SIGKILL);
      else
        kill (fn->net_holder, SIGKILL);
      waitpid (fn->net_holder, NULL, 0);
    }
  if (fn->net_dir)
    rf_rm_rf (fn->net_dir, NULL);
  free (fn->net_dir);
  fn->net_dir = NULL;
  rfd_watch_close (&fn->connector_w);
  if (fn->net_holder_pidfd >= 0)
    close (fn->net_holder_pidfd);
  if (fn->netns_fd >= 0)
    close (fn->netns_fd);
  fn->net_holder = 0;
  fn->net_holder_pidfd = fn->netns_fd = -1;
}

/* What a runfd of this state directory left behind: its table of rules,
   and the bridge when no port is left on it. */
static void
sweep (void)
{
  char *const ip_argv[] = { (char *) "ip", (char *) "link", (char *) "del", rfd_config.bridge, NULL };
  char *const nft_argv[] = { (char *) "nft", (char *) "delete", (char *) "table", (char *) "ip", nft_table, NULL };
  rf_error_t ignored = NULL;
  if (rfd_config.rootless)
    return;
  run_tool (nft_argv, NULL, 0, &ignored);
  rf_error_free (&ignored);
  if (if_nametoindex (rfd_config.bridge) != 0)
    {
      run_tool (ip_argv, NULL, 0, &ignored);
      rf_error_free (&ignored);
    }
}

int
rfd_network_init (rf_error_t *err)
{
  cleanup_free char *key = xstrdup (strrchr (rfd_config.cgroup_parent, '/') + 1);
  nft_table = xasprintf ("runfd_%s", key);
  sweep ();
  return 0;
}

void
rfd_network_shutdown (void)
{
  if (bridge_up)
    sweep ();
  bridge_up = false;
}
