/* runf's side of the sync protocol, what init and exec share (sync_parent.h). */
#include "sync_parent.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "runtime/console.h"
#include "runtime/hooks.h"

static int
take_pty (const rf_sync_parent_t *p, int passfd, rf_error_t *err)
{
  int r;
  if (passfd < 0)
    return rf_error_make (err, EPROTO, "%s sent no pty", p->child);
  if (p->console_socket == NULL)
    {
      if (*p->pty_master >= 0)
        close (*p->pty_master);
      *p->pty_master = passfd;
      return 0;
    }
  r = rf_console_socket_send (p->console_socket, passfd, err);
  close (passfd);
  return r;
}

static int
take_seccomp (const rf_sync_parent_t *p, int passfd, rf_error_t *err)
{
  cleanup_close int fd = passfd;
  cleanup_free char *state = NULL;
  if (fd < 0)
    return rf_error_make (err, EPROTO, "%s sent no seccomp fd", p->child);
  /* The listener learns of the process through its container's state. */
  state = rf_hooks_state_json (p->id, p->status, *p->pid, p->bundle, p->annotations);
  return rf_seccomp_send_listener (p->seccomp, fd, state, err);
}

int
rf_sync_parent_next (const rf_sync_parent_t *p, rf_sync_msg_t *msg, rf_error_t *err)
{
  for (;;)
    {
      int passfd = -1;
      int r = rf_sync_recv (p->fd, msg, &passfd);

      if (r < 0)
        return rf_error_sys (err, "read from %s", p->child);
      if (r == 0)
        return 0;
      rf_debug ("%s `%s`: %s says %s", p->verb, p->id, p->speaker, rf_sync_type_name (msg->type));
      if (msg->type == RF_SYNC_PTY)
        r = take_pty (p, passfd, err);
      else if (msg->type == RF_SYNC_SECCOMP)
        r = take_seccomp (p, passfd, err);
      else
        {
          if (passfd >= 0)
            close (passfd);
          if (msg->type == RF_SYNC_ERROR)
            return rf_error_make (err, msg->code, "%s", msg->text);
          if (msg->type <= 0 || (size_t) msg->type >= 8 * sizeof p->accept
              || !(p->accept & RF_SYNC_BIT (msg->type)))
            return rf_error_make (err, EPROTO, "%s sent message %d", p->child, msg->type);
          return 1;
        }
      if (r < 0)
        return -1;
    }
}

int
rf_sync_socketpair (int fds[2], int min_fd, rf_error_t *err)
{
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    {
      fds[0] = fds[1] = -1;
      return rf_error_sys (err, "socketpair");
    }
  /* rf_fd_above closes the fd it moves, also when it fails. */
  if ((fds[0] = rf_fd_above (fds[0], min_fd, err)) < 0)
    {
      close (fds[1]);
      fds[1] = -1;
      return -1;
    }
  if ((fds[1] = rf_fd_above (fds[1], min_fd, err)) < 0)
    return -1;
  return 0;
}

void
rf_child_reap (pid_t pid)
{
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

char *
rf_child_exit_text (pid_t pid, bool wait)
{
  int status;
  pid_t r;
  do
    r = waitpid (pid, &status, wait ? 0 : WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r != pid)
    return xstrdup ("");
  if (WIFSIGNALED (status))
    return xasprintf (" (killed by signal %d)", WTERMSIG (status));
  if (WIFEXITED (status))
    return xasprintf (" (exit status %d)", WEXITSTATUS (status));
  return xstrdup ("");
}
