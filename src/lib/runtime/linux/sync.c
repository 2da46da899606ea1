#include "sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"

static int
send_msg (int fd, const rf_sync_msg_t *msg, size_t len, int passfd)
{
  if (rf_send_fds (fd, msg, len, &passfd, passfd >= 0 ? 1 : 0) == 0)
    return 0;
  /* init sends its last messages under the container's seccomp filter
     (loaded before the change of identity when noNewPrivileges is false),
     and profiles written for programs that never use sockets refuse
     sendmsg: a message without an fd goes as well with write, which every
     profile allows.  A peer that is gone is not retried. */
  if (passfd < 0 && errno != EPIPE && errno != ECONNRESET && errno != ENOTCONN && errno != EBADF)
    return write (fd, msg, len) < 0 ? -1 : 0;
  return -1;
}

const char *
rf_sync_type_name (int32_t type)
{
  static const char *const names[] = {
    [RF_SYNC_SETUP] = "SETUP (write the id maps, join the cgroup)",
    [RF_SYNC_SETUP_DONE] = "SETUP_DONE",
    [RF_SYNC_CHILD_PID] = "CHILD_PID (forked into the pid namespace)",
    [RF_SYNC_PTY] = "PTY (the terminal's master)",
    [RF_SYNC_READY] = "READY (set up, waiting for start)",
    [RF_SYNC_START] = "START",
    [RF_SYNC_ERROR] = "ERROR",
    [RF_SYNC_HOOKS] = "HOOKS (run prestart and createRuntime)",
    [RF_SYNC_HOOKS_DONE] = "HOOKS_DONE",
    [RF_SYNC_SECCOMP] = "SECCOMP (the notify fd, for the listener)",
    [RF_SYNC_MOUNT_SOURCE] = "MOUNT_SOURCE",
  };
  if (type > 0 && (size_t) type < sizeof names / sizeof names[0] && names[type])
    return names[type];
  return "an unknown message";
}

int
rf_sync_send (int fd, rf_sync_type_t type, int pid, int passfd)
{
  rf_sync_msg_t msg;
  memset (&msg, 0, offsetof (rf_sync_msg_t, text) + 1);
  msg.type = type;
  msg.pid = pid;
  return send_msg (fd, &msg, offsetof (rf_sync_msg_t, text) + 1, passfd);
}

int
rf_sync_send_data (int fd, rf_sync_type_t type, int pid, int passfd, const char *data, size_t len)
{
  rf_sync_msg_t msg;
  if (len > sizeof msg.text)
    {
      errno = E2BIG;
      return -1;
    }
  memset (&msg, 0, offsetof (rf_sync_msg_t, text));
  msg.type = type;
  msg.pid = pid;
  memcpy (msg.text, data, len);
  msg.code = (int32_t) len;
  return send_msg (fd, &msg, offsetof (rf_sync_msg_t, text) + len, passfd);
}

int
rf_sync_send_error_text (int fd, int code, const char *text)
{
  rf_sync_msg_t msg;
  size_t len;
  memset (&msg, 0, sizeof msg);
  msg.type = RF_SYNC_ERROR;
  msg.code = code;
  snprintf (msg.text, sizeof msg.text, "%s", text);
  len = offsetof (rf_sync_msg_t, text) + strlen (msg.text) + 1;
  return send_msg (fd, &msg, len, -1);
}

int
rf_sync_send_error (int fd, const rf_error_t error)
{
  return rf_sync_send_error_text (fd, error ? error->code : 0, error ? error->msg : "unknown error");
}

int
rf_sync_recv (int fd, rf_sync_msg_t *msg, int *passfd)
{
  struct iovec iov = { msg, sizeof *msg };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf };
  ssize_t n;

  if (passfd)
    *passfd = -1;
  memset (msg, 0, offsetof (rf_sync_msg_t, text) + 1);
  do
    n = recvmsg (fd, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  /* Under a filter that refuses recvmsg (see send_msg), a message that
     brings no fd reads as well with read. */
  if (n < 0 && passfd == NULL && errno != EBADF && errno != EAGAIN && errno != ECONNRESET)
    {
      mh.msg_controllen = 0;
      do
        n = read (fd, msg, sizeof *msg);
      while (n < 0 && errno == EINTR);
    }
  if (n < 0)
    return -1;
  if (n == 0)
    return 0;
  msg->text[sizeof msg->text - 1] = '\0';
  for (struct cmsghdr *cm = CMSG_FIRSTHDR (&mh); cm; cm = CMSG_NXTHDR (&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
      {
        int got;
        memcpy (&got, CMSG_DATA (cm), sizeof (int));
        if (passfd && *passfd < 0)
          *passfd = got;
        else
          close (got);
      }
  return 1;
}

int
rf_sync_expect (int fd, rf_sync_type_t type, rf_sync_msg_t *msg, int *passfd,
                rf_error_t *err)
{
  int r = rf_sync_recv (fd, msg, passfd);
  if (r < 0)
    return rf_error_sys (err, "read from the container's init");
  if (r == 0)
    return rf_error_make (err, EPIPE, "the container's init exited during setup");
  if (msg->type == RF_SYNC_ERROR)
    return rf_error_make (err, msg->code, "%s", msg->text);
  if (msg->type != (int32_t) type)
    return rf_error_make (err, EPROTO, "the container's init sent message %d, expected %d",
                          msg->type, type);
  return 0;
}

int
rf_send_fd (int sock, int fd, const char *payload, rf_error_t *err)
{
  /* The socket may be non-blocking (rf_unix_connect): a peer whose buffer
     is full does not take the fd, rather than runf waiting for it. */
  if (rf_send_fds (sock, payload, strlen (payload), &fd, 1) < 0)
    return rf_error_sys (err, "send an fd over the socket");
  return 0;
}

int
rf_sync_hand_over (int fd, rf_sync_type_t type, int passfd, const char *what, rf_error_t *err)
{
  cleanup_close int owned = passfd;
  if (rf_sync_send (fd, type, 0, owned) < 0)
    return rf_error_sys (err, "send %s to runf", what);
  return 0;
}

int
rf_unix_connect (const char *path, const char *what, rf_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int sock = -1;

  if (strlen (path) >= sizeof addr.sun_path)
    return rf_error_make (err, ENAMETOOLONG, "%s `%s`: path too long", what, path);
  strcpy (addr.sun_path, path);
  sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (sock < 0)
    return rf_error_sys (err, "%s: socket", what);
  /* A listener that does not accept fills its backlog, and a blocking
     connect would wait for it forever: non-blocking, connect says EAGAIN
     until there is room, which is waited for a bounded time. */
  for (int waited_ms = 0;; waited_ms += 10)
    {
      if (connect (sock, (struct sockaddr *) &addr, sizeof addr) == 0)
        break;
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN)
        return rf_error_sys (err, "%s `%s`: connect", what, path);
      if (waited_ms >= RF_UNIX_CONNECT_TIMEOUT_MS)
        return rf_error_make (err, ETIMEDOUT, "%s `%s`: nobody accepts connections there", what, path);
      usleep (10000);
    }
  return steal_fd (&sock);
}
