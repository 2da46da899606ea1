#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/jsonutil.h"
#include "fsops.h"
#include "text.h"

#define REFS_FILE "refs.json"
#define REFS_MAX (64 * 1024 * 1024)

char *
rf_store_default_root (bool rootless)
{
  const char *xdg = getenv ("XDG_DATA_HOME");
  const char *home = getenv ("HOME");
  if (!rootless)
    return xstrdup ("/var/lib/runf");
  if (xdg && xdg[0] == '/')
    return xasprintf ("%s/runf", xdg);
  return xasprintf ("%s/.local/share/runf", home && *home ? home : "/tmp");
}

static int
mkdir_at (int dfd, const char *name, mode_t mode, rf_error_t *err)
{
  if (mkdirat (dfd, name, mode) < 0 && errno != EEXIST)
    return rf_error_sys (err, "mkdir `%s`", name);
  return 0;
}

/* A scratch directory is stale when no process holds its lock. */
static void
sweep_tmp (rf_store_t *s)
{
  cleanup_close int tfd = openat (s->root_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir;
  struct dirent *de;

  if (tfd < 0)
    return;
  dir = fdopendir (tfd);
  if (dir == NULL)
    return;
  tfd = -1;
  while ((de = readdir (dir)) != NULL)
    {
      int fd;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      fd = openat (dirfd (dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        {
          unlinkat (dirfd (dir), de->d_name, 0);
          continue;
        }
      if (flock (fd, LOCK_EX | LOCK_NB) == 0)
        rf_rm_tree_at (dirfd (dir), de->d_name, NULL);
      close (fd);
    }
  closedir (dir);
}

static void
random_name (char out[17])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char bytes[8];
  if (getrandom (bytes, sizeof bytes, 0) != sizeof bytes)
    {
      struct timespec ts;
      clock_gettime (CLOCK_MONOTONIC, &ts);
      for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char) ((ts.tv_nsec >> (i * 3)) ^ (getpid () >> i));
    }
  for (size_t i = 0; i < sizeof bytes; i++)
    {
      out[2 * i] = hex[bytes[i] >> 4];
      out[2 * i + 1] = hex[bytes[i] & 15];
    }
  out[16] = '\0';
}

static int
make_scratch (rf_store_t *s, rf_error_t *err)
{
  for (int tries = 0; tries < 100; tries++)
    {
      char name[17];
      cleanup_free char *rel = NULL;
      struct stat a, b;
      int fd;

      random_name (name);
      rel = xasprintf ("tmp/%s", name);
      if (mkdirat (s->root_fd, rel, 0700) < 0)
        {
          if (errno == EEXIST)
            continue;
          return rf_error_sys (err, "mkdir `%s/%s`", s->root, rel);
        }
      /* Until it is locked, another runfctl's sweep may take the new
         directory for a stale one and remove it: then make another. */
      fd = openat (s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT)
        continue;
      if (fd < 0)
        return rf_error_sys (err, "open `%s/%s`", s->root, rel);
      if (flock (fd, LOCK_EX) < 0)
        {
          close (fd);
          return rf_error_sys (err, "lock `%s/%s`", s->root, rel);
        }
      if (fstat (fd, &a) < 0 || fstatat (s->root_fd, rel, &b, AT_SYMLINK_NOFOLLOW) < 0
          || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
        {
          close (fd);
          continue;
        }
      s->tmp_fd = fd;
      s->tmp_name = xstrdup (name);
      return 0;
    }
  return rf_error_make (err, 0, "make a scratch directory in `%s/tmp`", s->root);
}

int
rf_store_open (const char *root, rf_store_mode_t mode, bool rootless, rf_store_t **out,
               rf_error_t *err)
{
  rf_store_t *s = xzalloc (sizeof *s);
  static const char *const dirs[] = { "blobs", "blobs/sha256", "rootfs", "locks", "tmp" };

  /* Absolute: bundles record paths into the store. */
  if (root[0] == '/')
    s->root = xstrdup (root);
  else
    {
      char cwd[4096];
      if (getcwd (cwd, sizeof cwd) == NULL)
        {
          rf_error_sys (err, "getcwd");
          free (s);
          return -1;
        }
      s->root = xasprintf ("%s/%s", cwd, root);
    }
  s->root_fd = s->lock_fd = s->tmp_fd = -1;
  s->rootless = rootless;
  *out = NULL;

  if (mode != RF_STORE_READ && rf_mkdir_p (s->root, 0711, err) < 0)
    goto fail;
  s->root_fd = open (s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->root_fd < 0)
    {
      if (mode == RF_STORE_READ && errno == ENOENT)
        {
          *out = s;
          return 0;
        }
      rf_error_sys (err, "open the store `%s`", root);
      goto fail;
    }
  if (mode == RF_STORE_READ)
    {
      *out = s;
      return 0;
    }
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    if (mkdir_at (s->root_fd, dirs[i], i == 2 ? 0711 : 0700, err) < 0)
      goto fail;
  s->lock_fd = openat (s->root_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s->lock_fd < 0)
    {
      rf_error_sys (err, "open `%s/lock`", root);
      goto fail;
    }
  if (flock (s->lock_fd, mode == RF_STORE_EXCLUSIVE ? LOCK_EX : LOCK_SH) < 0)
    {
      rf_error_sys (err, "lock `%s/lock`", root);
      goto fail;
    }
  sweep_tmp (s);
  if (make_scratch (s, err) < 0)
    goto fail;
  *out = s;
  return 0;

fail:
  rf_store_close (s);
  return -1;
}

void
rf_store_close (rf_store_t *s)
{
  if (s == NULL)
    return;
  if (s->tmp_fd >= 0)
    {
      cleanup_free char *rel = xasprintf ("tmp/%s", s->tmp_name);
      rf_rm_tree_at (s->root_fd, rel, NULL);
      close (s->tmp_fd);
    }
  if (s->lock_fd >= 0)
    close (s->lock_fd);
  if (s->root_fd >= 0)
    close (s->root_fd);
  free (s->tmp_name);
  free (s->root);
  free (s);
}

char *
rf_store_tmp_name (rf_store_t *s, const char *prefix)
{
  return xasprintf ("%s-%u", prefix, ++s->tmp_seq);
}

static char *
blob_rel (const char *digest)
{
  return xasprintf ("blobs/sha256/%s", rf_digest_hex (digest));
}

bool
rf_store_has_blob (rf_store_t *s, const char *digest)
{
  cleanup_free char *rel = NULL;
  struct stat st;
  if (s->root_fd < 0 || !rf_digest_valid_p (digest))
    return false;
  rel = blob_rel (digest);
  return fstatat (s->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode);
}

int64_t
rf_store_blob_size (rf_store_t *s, const char *digest)
{
  cleanup_free char *rel = NULL;
  struct stat st;
  if (s->root_fd < 0 || !rf_digest_valid_p (digest))
    return -1;
  rel = blob_rel (digest);
  if (fstatat (s->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return -1;
  return st.st_size;
}

int
rf_store_open_blob (rf_store_t *s, const char *digest, rf_error_t *err)
{
  cleanup_free char *rel = NULL;
  int fd;
  if (rf_digest_check (digest, err) < 0)
    return -1;
  if (s->root_fd < 0)
    return rf_error_make (err, 0, "blob %s is not in the store", digest);
  rel = blob_rel (digest);
  fd = openat (s->root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? rf_error_make (err, 0, "blob %s is not in the store", digest)
                           : rf_error_sys (err, "open blob %s", digest);
  return fd;
}

int
rf_store_read_blob (rf_store_t *s, const char *digest, size_t max, char **buf, size_t *len,
                    rf_error_t *err)
{
  cleanup_close int fd = rf_store_open_blob (s, digest, err);
  cleanup_free char *data = NULL;
  char got[RF_DIGEST_MAX];
  size_t n;

  if (fd < 0)
    return -1;
  if (rf_read_fd (fd, max, &data, &n, err) < 0)
    return rf_error_wrap (err, "blob %s", digest);
  rf_digest_buffer (data, n, got);
  if (strcmp (got, digest) != 0)
    return rf_error_make (err, 0, "blob %s in the store is corrupt (its content is %s)", digest,
                          got);
  *buf = steal_pointer (&data);
  *len = n;
  return 0;
}

struct rf_blob_writer_s
{
  rf_store_t *s;
  int fd;
  char *name; /* in the scratch directory */
  rf_sha256_t *hash;
  int64_t size;
  char digest[RF_DIGEST_MAX];
  bool installed;
};

rf_blob_writer_t *
rf_blob_writer_new (rf_store_t *s, rf_error_t *err)
{
  rf_blob_writer_t *w = xzalloc (sizeof *w);
  w->s = s;
  w->name = rf_store_tmp_name (s, "blob");
  w->fd = openat (s->tmp_fd, w->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (w->fd < 0)
    {
      rf_error_sys (err, "create a scratch file in `%s/tmp`", s->root);
      free (w->name);
      free (w);
      return NULL;
    }
  w->hash = rf_sha256_new ();
  return w;
}

int
rf_blob_writer_write (rf_blob_writer_t *w, const void *buf, size_t len, rf_error_t *err)
{
  rf_sha256_update (w->hash, buf, len);
  if (rf_write_all (w->fd, buf, len) < 0)
    return rf_error_sys (err, "write a scratch file in `%s/tmp`", w->s->root);
  w->size += len;
  return 0;
}

int
rf_blob_writer_restart (rf_blob_writer_t *w, rf_error_t *err)
{
  if (ftruncate (w->fd, 0) < 0 || lseek (w->fd, 0, SEEK_SET) < 0)
    return rf_error_sys (err, "truncate a scratch file");
  rf_sha256_reset (w->hash);
  w->size = 0;
  return 0;
}

int
rf_blob_writer_finish (rf_blob_writer_t *w, const char *expected, int64_t size, rf_error_t *err)
{
  rf_sha256_final (w->hash, w->digest);
  if (size >= 0 && w->size != size)
    return rf_error_make (err, 0, "blob %s: %lld bytes where the manifest says %lld",
                          expected ? expected : w->digest, (long long) w->size, (long long) size);
  if (expected && strcmp (expected, w->digest) != 0)
    return rf_error_make (err, 0, "blob %s: digest mismatch (the content is %s)", expected,
                          w->digest);
  /* Data before name: after a power cut a blob is whole or absent. */
  if (fdatasync (w->fd) < 0)
    return rf_error_sys (err, "sync a scratch file");
  return 0;
}

const char *
rf_blob_writer_digest (rf_blob_writer_t *w)
{
  return w->digest;
}

int64_t
rf_blob_writer_size (rf_blob_writer_t *w)
{
  return w->size;
}

int
rf_blob_writer_open (rf_blob_writer_t *w, rf_error_t *err)
{
  int fd = openat (w->s->tmp_fd, w->name, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return rf_error_sys (err, "open a scratch file");
  return fd;
}

int
rf_blob_writer_install (rf_blob_writer_t *w, rf_error_t *err)
{
  cleanup_free char *rel = blob_rel (w->digest);
  cleanup_close int blobs = openat (w->s->root_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (blobs < 0)
    return rf_error_sys (err, "open `%s/blobs/sha256`", w->s->root);
  /* A concurrent writer of the same blob renames the same bytes. */
  if (renameat (w->s->tmp_fd, w->name, blobs, rf_digest_hex (w->digest)) < 0)
    return rf_error_sys (err, "store blob %s", w->digest);
  w->installed = true;
  return 0;
}

void
rf_blob_writer_free (rf_blob_writer_t *w)
{
  if (w == NULL)
    return;
  if (!w->installed)
    unlinkat (w->s->tmp_fd, w->name, 0);
  if (w->fd >= 0)
    close (w->fd);
  rf_sha256_free (w->hash);
  free (w->name);
  free (w);
}

int
rf_store_put_blob (rf_store_t *s, const void *buf, size_t len, char digest[RF_DIGEST_MAX],
                   rf_error_t *err)
{
  rf_blob_writer_t *w = rf_blob_writer_new (s, err);
  int r = -1;
  if (w == NULL)
    return -1;
  if (rf_blob_writer_write (w, buf, len, err) == 0 && rf_blob_writer_finish (w, NULL, -1, err) == 0
      && rf_blob_writer_install (w, err) == 0)
    {
      memcpy (digest, w->digest, RF_DIGEST_MAX);
      r = 0;
    }
  rf_blob_writer_free (w);
  return r;
}

static int
refs_load_at (rf_store_t *s, json_t **out, rf_error_t *err)
{
  cleanup_free char *text = NULL;
  cleanup_json json_t *doc = NULL;
  cleanup_free char *name = xasprintf ("%s/" REFS_FILE, s->root);
  json_t *refs;
  const char *key;
  json_t *value;
  size_t len;

  *out = NULL;
  if (s->root_fd < 0 || rf_read_file_at (s->root_fd, REFS_FILE, REFS_MAX, &text, &len, NULL) < 0)
    {
      if (s->root_fd >= 0 && errno != ENOENT)
        return rf_error_sys (err, "read `%s`", name);
      *out = json_object ();
      return 0;
    }
  doc = rf_json_load_buffer (name, text, len, err);
  if (doc == NULL)
    return -1;
  refs = json_object_get (doc, "refs");
  if (!json_is_object (refs))
    return rf_error_make (err, 0, "%s: refs: expected an object", name);
  json_object_foreach (refs, key, value)
    if (!json_is_string (value) || !rf_digest_valid_p (json_string_value (value)))
      return rf_error_make (err, 0, "%s: refs: a name without a valid digest", name);
  *out = json_incref (refs);
  return 0;
}

int
rf_store_refs_load (rf_store_t *s, json_t **refs, rf_error_t *err)
{
  return refs_load_at (s, refs, err);
}

int
rf_store_refs_update (rf_store_t *s, int (*fn) (json_t *refs, void *ctx, rf_error_t *err),
                      void *ctx, rf_error_t *err)
{
  cleanup_close int lock = openat (s->root_fd, "locks/refs", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  cleanup_json json_t *refs = NULL;
  cleanup_json json_t *doc = NULL;
  cleanup_free char *text = NULL;
  cleanup_free char *tmp = rf_store_tmp_name (s, "refs");
  int fd;

  if (lock < 0 || flock (lock, LOCK_EX) < 0)
    return rf_error_sys (err, "lock `%s/locks/refs`", s->root);
  if (refs_load_at (s, &refs, err) < 0 || fn (refs, ctx, err) < 0)
    return -1;
  doc = json_pack ("{s:i, s:O}", "version", 1, "refs", refs);
  text = json_dumps (doc, JSON_INDENT (2) | JSON_SORT_KEYS);
  fd = openat (s->tmp_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return rf_error_sys (err, "create a scratch file");
  if (rf_write_all (fd, text, strlen (text)) < 0 || rf_write_all (fd, "\n", 1) < 0
      || fdatasync (fd) < 0)
    {
      rf_error_sys (err, "write a scratch file");
      close (fd);
      return -1;
    }
  close (fd);
  if (renameat (s->tmp_fd, tmp, s->root_fd, REFS_FILE) < 0)
    return rf_error_sys (err, "replace `%s/" REFS_FILE "`", s->root);
  return 0;
}

struct ref_set
{
  const char *name, *digest;
};

static int
ref_set_fn (json_t *refs, void *ctx, rf_error_t *err)
{
  struct ref_set *r = ctx;
  json_object_set_new (refs, r->name, json_string (r->digest));
  return 0;
}

int
rf_store_ref_set (rf_store_t *s, const char *name, const char *digest, rf_error_t *err)
{
  struct ref_set r = { name, digest };
  return rf_store_refs_update (s, ref_set_fn, &r, err);
}

char *
rf_store_rootfs_path (rf_store_t *s, const char *digest)
{
  return xasprintf ("%s/rootfs/%s", s->root, rf_digest_hex (digest));
}

int
rf_store_lock_image (rf_store_t *s, const char *digest, rf_error_t *err)
{
  cleanup_free char *rel = xasprintf ("locks/%s", rf_digest_hex (digest));
  int fd = openat (s->root_fd, rel, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return rf_error_sys (err, "open `%s/%s`", s->root, rel);
  if (flock (fd, LOCK_EX) < 0)
    {
      rf_error_sys (err, "lock `%s/%s`", s->root, rel);
      close (fd);
      return -1;
    }
  return fd;
}

/* --- pins ------------------------------------------------------------------ */

static bool
owner_valid_p (const char *owner)
{
  if (*owner == '\0' || *owner == '.' || strlen (owner) > 200)
    return false;
  for (const char *p = owner; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.'
          || *p == '_' || *p == '-'))
      return false;
  return true;
}

int
rf_store_pin (rf_store_t *s, const char *owner, const char *digest, const char *record, const char *lock,
              rf_error_t *err)
{
  cleanup_json json_t *doc = NULL;
  cleanup_free char *text = NULL;
  cleanup_free char *dir = xasprintf ("%s/pins", s->root);
  cleanup_free char *path = NULL;

  if (!owner_valid_p (owner))
    return rf_error_make (err, EINVAL, "pin `%s`: not a valid owner name", owner);
  if (rf_mkdir_p (dir, 0700, err) < 0)
    return -1;
  path = xasprintf ("%s/%s.json", dir, owner);
  doc = json_pack ("{s:s, s:s?, s:s?}", "digest", digest, "record", record, "lock", lock);
  text = json_dumps (doc, JSON_COMPACT);
  return rf_write_file_atomic (path, text, strlen (text), 0600, err);
}

void
rf_store_unpin (const char *root, const char *owner)
{
  cleanup_free char *path = NULL;
  if (!owner_valid_p (owner))
    return;
  path = xasprintf ("%s/pins/%s.json", root, owner);
  unlink (path);
}

void
rf_store_unpin_prefix (const char *root, const char *prefix)
{
  cleanup_free char *dir = xasprintf ("%s/pins", root);
  DIR *d = opendir (dir);
  struct dirent *de;
  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    if (strncmp (de->d_name, prefix, strlen (prefix)) == 0)
      unlinkat (dirfd (d), de->d_name, 0);
  closedir (d);
}

/* Whether someone holds the flock of path (a running daemon): a shared
   lock taken and let go at once is refused while it does. */
static bool
locked_p (const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  bool held;
  if (fd < 0)
    return false;
  held = flock (fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
  close (fd);
  return held;
}

int
rf_store_pins (rf_store_t *s, json_t *keep, rf_error_t *err)
{
  cleanup_close int dfd = openat (s->root_fd, "pins", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;
  struct dirent *de;

  if (dfd < 0)
    return errno == ENOENT ? 0 : rf_error_sys (err, "open `%s/pins`", s->root);
  d = fdopendir (dfd);
  if (d == NULL)
    return rf_error_sys (err, "open `%s/pins`", s->root);
  dfd = -1;
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *text = NULL;
      cleanup_json json_t *doc = NULL;
      const char *digest, *record, *lock;
      size_t len = strlen (de->d_name);
      struct stat st;

      if (len < 6 || strcmp (de->d_name + len - 5, ".json") != 0)
        continue;
      if (rf_read_file_at (dirfd (d), de->d_name, 64 * 1024, &text, NULL, NULL) < 0
          || (doc = json_loads (text, 0, NULL)) == NULL)
        continue;
      digest = json_string_value (json_object_get (doc, "digest"));
      record = json_string_value (json_object_get (doc, "record"));
      lock = json_string_value (json_object_get (doc, "lock"));
      if (digest == NULL || !rf_digest_valid_p (digest))
        continue;
      if ((record && stat (record, &st) == 0) || (lock && locked_p (lock)))
        json_object_set_new (keep, digest, json_true ());
      else
        unlinkat (dirfd (d), de->d_name, 0);
    }
  closedir (d);
  return 0;
}
