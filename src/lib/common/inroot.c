#include "inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

/* The kernel's limit on symlinks in one lookup. */
#define MAX_LINKS 40

static bool force_fallback;

void
rf_inroot_force_fallback (bool on)
{
  force_fallback = on;
}

/* openat2, or -1 with errno ENOSYS where the kernel (or a seccomp filter
   around us) lacks it. */
static int
openat2_or_enosys (int dirfd, const char *path, int flags, uint64_t resolve)
{
  struct open_how how;

  if (force_fallback)
    {
      errno = ENOSYS;
      return -1;
    }
  memset (&how, 0, sizeof how);
  how.flags = (uint64_t) flags;
  how.resolve = resolve;
  return (int) syscall (SYS_openat2, dirfd, path, &how, sizeof how);
}

/* The directories a walk has gone down, the root first: each an O_PATH fd
   (the root's is the caller's and is not closed) and the name it was
   opened by below the one before.  fd -1: a component that does not exist,
   kept by rf_inroot_resolve. */
struct step
{
  int fd;
  char *name;
};

struct walk
{
  struct step *v;
  size_t n, cap;
};

static void
walk_pop (struct walk *w)
{
  if (w->n <= 1)
    return;
  w->n--;
  if (w->v[w->n].fd >= 0)
    close (w->v[w->n].fd);
  free (w->v[w->n].name);
}

static void
walk_free (struct walk *w)
{
  while (w->n > 1)
    walk_pop (w);
  free (w->v);
}

static void
walk_push (struct walk *w, int fd, const char *name)
{
  if (w->n == w->cap)
    {
      w->cap = w->cap ? 2 * w->cap : 16;
      w->v = xrealloc (w->v, w->cap * sizeof *w->v);
    }
  w->v[w->n].fd = fd;
  w->v[w->n].name = name ? xstrdup (name) : NULL;
  w->n++;
}

/* Go down `path` from the root as the kernel's RESOLVE_IN_ROOT (or, with
   RF_INROOT_NO_SYMLINKS, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) does.
   Each component is opened O_PATH | O_NOFOLLOW relative to the directory
   before it, so nothing is followed by the kernel: a symlink is opened as
   itself, read through that fd (the link that was looked at, not one
   swapped in since) and its target walked by hand, ".." popping back to
   the directory below and an absolute target back to the root.  No step
   can leave the root: the only way up is the stack of fds that came down
   from it.  A magic link's target is only text here ("/", "pipe:[…]"),
   resolved inside the root like any other.  With keep_missing a component
   that cannot be opened is kept as a name without an fd (and everything
   below it), as a path to create. */
static int
walk_down (struct walk *w, const char *path, rf_inroot_how_t how, bool keep_missing)
{
  cleanup_free char *todo = xstrdup (path);
  bool no_links = how == RF_INROOT_NO_SYMLINKS;
  int links = 0;

  if (no_links && path[0] == '/')
    {
      errno = EXDEV;
      return -1;
    }
  for (;;)
    {
      char *comp = todo, *rest;
      const struct step *top;
      struct stat st;
      int fd = -1;

      while (*comp == '/')
        comp++;
      if (*comp == '\0')
        return 0;
      rest = comp + strcspn (comp, "/");
      if (*rest)
        *rest++ = '\0';
      top = &w->v[w->n - 1];

      if (strcmp (comp, "..") == 0)
        {
          if (no_links && w->n == 1)
            {
              errno = EXDEV;
              return -1;
            }
          walk_pop (w);
        }
      else if (strcmp (comp, ".") != 0)
        {
          if (top->fd >= 0)
            fd = openat (top->fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0 && !keep_missing)
            return -1;
          if (fd >= 0 && fstat (fd, &st) < 0)
            {
              close (fd);
              return -1;
            }
          if (fd >= 0 && S_ISLNK (st.st_mode))
            {
              char target[PATH_MAX];
              ssize_t n = -1;
              char *next;

              if (!no_links && ++links <= MAX_LINKS)
                n = readlinkat (fd, "", target, sizeof target - 1);
              else
                errno = ELOOP;
              close (fd);
              if (n < 0)
                return -1;
              target[n] = '\0';
              if (target[0] == '/')
                while (w->n > 1)
                  walk_pop (w);
              next = xasprintf ("%s/%s", target, rest);
              free (todo);
              todo = next;
              continue;
            }
          walk_push (w, fd, comp);
        }
      memmove (todo, rest, strlen (rest) + 1);
    }
}

/* Open what a walk ended on, by its name in the directory before it, with
   O_NOFOLLOW: were it replaced by a symlink since the walk looked, this
   fails (ELOOP), and whatever else is there now is still inside the root. */
static int
open_walked (const struct walk *w, int flags)
{
  const struct step *top = &w->v[w->n - 1];
  struct stat st;
  int fd;

  if (w->n == 1)
    return openat (top->fd, ".", flags | O_CLOEXEC);
  fd = openat (w->v[w->n - 2].fd, top->name, flags | O_NOFOLLOW | O_CLOEXEC);
  /* O_PATH | O_NOFOLLOW opens a symlink as itself rather than failing. */
  if (fd >= 0 && (flags & O_PATH) && (fstat (fd, &st) < 0 || S_ISLNK (st.st_mode)))
    {
      close (fd);
      errno = ELOOP;
      return -1;
    }
  return fd;
}

int
rf_inroot_open (int root_fd, const char *path, int flags, rf_inroot_how_t how)
{
  uint64_t resolve = RESOLVE_NO_MAGICLINKS;
  struct walk w = { 0 };
  int fd, saved;

  resolve |= how == RF_INROOT_NO_SYMLINKS ? RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS : RESOLVE_IN_ROOT;
  if (*path == '\0')
    path = ".";
  fd = openat2_or_enosys (root_fd, path, flags | O_CLOEXEC, resolve);
  /* EAGAIN: a rename raced the kernel's ".." check; E2BIG: an open_how it
     does not know.  The walk by hand answers both. */
  if (fd >= 0 || (errno != ENOSYS && errno != EAGAIN && errno != E2BIG))
    return fd;

  walk_push (&w, root_fd, NULL);
  fd = walk_down (&w, path, how, false) < 0 ? -1 : open_walked (&w, flags);
  saved = errno;
  walk_free (&w);
  errno = saved;
  return fd;
}

char *
rf_inroot_resolve (int root_fd, const char *path, rf_error_t *err)
{
  struct walk w = { 0 };
  char *out = NULL;
  size_t len = 0;

  walk_push (&w, root_fd, NULL);
  if (walk_down (&w, path, RF_INROOT_FOLLOW, true) < 0)
    {
      rf_error_sys (err, "resolve `%s` inside the root", path);
      walk_free (&w);
      return NULL;
    }
  for (size_t i = 1; i < w.n; i++)
    len += strlen (w.v[i].name) + 1;
  out = xmalloc (len + 1);
  out[0] = '\0';
  for (size_t i = 1; i < w.n; i++)
    {
      if (i > 1)
        strcat (out, "/");
      strcat (out, w.v[i].name);
    }
  walk_free (&w);
  return out;
}

int
rf_inroot_mkpath (int root_fd, const char *path, bool dir, rf_error_t *err)
{
  cleanup_free char *rel = NULL;
  cleanup_close int parent = -1;
  char *p, *save = NULL, *comp, *next;
  int fd;

  fd = rf_inroot_open (root_fd, path, O_PATH, RF_INROOT_FOLLOW);
  if (fd >= 0)
    return fd;

  /* Resolve the symlinks that exist inside the root, then make what is
     missing one component at a time, each relative to its parent's fd and
     without following links: a link planted meanwhile makes this fail,
     never escape. */
  rel = rf_inroot_resolve (root_fd, path, err);
  if (rel == NULL)
    return -1;
  parent = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
  if (parent < 0)
    return rf_error_sys (err, "dup");
  p = rel;
  for (comp = strtok_r (p, "/", &save); comp; comp = next)
    {
      bool last;
      int child;

      next = strtok_r (NULL, "/", &save);
      last = next == NULL;
      if (last && !dir)
        {
          child = openat (parent, comp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
          if (child < 0)
            return rf_error_sys (err, "create `%s` in the rootfs", path);
          close (child);
          child = openat (parent, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        }
      else
        {
          if (mkdirat (parent, comp, 0755) < 0 && errno != EEXIST)
            return rf_error_sys (err, "mkdir `%s` in the rootfs", path);
          child = openat (parent, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      if (child < 0)
        return rf_error_sys (err, "open `%s` in the rootfs", path);
      close (parent);
      parent = child;
    }
  return steal_fd (&parent);
}
