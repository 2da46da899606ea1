/* `runf run`: create and start in one process, then (unless --detach) stay
 * as the container's parent: forward signals, relay the terminal, and exit
 * with the container's status (128+N when a signal N killed it). */
#include "common/cleanup.h"
#include "common/log.h"
#include "create.h"
#include "runtime/console.h"
#include "supervise.h"

int
runf_cmd_run (runf_global_t *g, int argc, char **argv, rf_error_t *err)
{
  runf_create_args_t a;
  rf_container_t *c = NULL;
  cleanup_close int sfd = -1;
  int ret = -1;

  if (runf_parse_create (g, argc, argv, true, &a, err) < 0)
    goto out;
  a.opts.start_now = true;

  if (!a.detach && (sfd = runf_signals_block (err)) < 0)
    goto out;
  if (rf_container_create (&a.opts, a.spec, &c, err) < 0)
    goto out;
  if (c->pty_master >= 0 && rf_terminal_relay_open (c->pty_master, err) < 0)
    {
      rf_container_abort (c);
      c = NULL;
      goto out;
    }
  if (rf_container_start_now (c, err) < 0)
    {
      rf_terminal_restore ();
      rf_container_abort (c);
      c = NULL;
      goto out;
    }
  if (a.detach)
    {
      ret = 0;
      goto out;
    }
  ret = runf_supervise (c->pid, c->pidfd, c->pty_master, sfd, err);
  rf_terminal_restore ();
  if (!a.keep)
    {
      rf_error_t ignored = NULL;
      if (rf_container_remove_state (g->root, a.opts.id, &ignored) < 0)
        {
          cleanup_free char *text = rf_error_text (ignored);
          rf_warn ("remove the state of `%s`: %s", a.opts.id, text);
        }
      rf_error_free (&ignored);
    }

out:
  rf_container_free (c);
  runf_create_args_clear (&a);
  return ret;
}
