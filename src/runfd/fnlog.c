/* Function logs: STATE/logs/NAME.log, written by runfd alone.
 *
 * Every instance of a function gets the write end of one pipe as its
 * stdout and stderr (the spawners hand it on); runfd reads the other end
 * in bites of at most 64 KiB per wakeup and appends them to the file.  So
 * nothing a handler writes costs the loop more than one bite at a time, a
 * function that writes faster than LOG_RATE is made to wait (its writes
 * block on the full pipe: its own time, no one else's), and rotation is
 * a rename done by the one writer: NAME.log becomes NAME.log.1 and a new
 * NAME.log starts, so that the two stay under --log-max each.  runfd's own
 * lines about an instance (an exec that failed, an OOM kill, a timeout)
 * go into the same file, with a timestamp.
 *
 * GET /system/logs is served from here too: read in blocks, sent as the
 * client takes them, never blocking the loop (a `fn logs | less` that
 * stops reading holds only its own connection). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "runfd.h"

#define LOG_BITE (64 * 1024)       /* read from a pipe per wakeup */
#define LOG_RATE (8.0 * 1024 * 1024) /* bytes/s a function's log is written at, sustained */
#define LOG_BURST (8.0 * 1024 * 1024)
#define READ_BLOCK (64 * 1024) /* what GET /system/logs reads and sends per wakeup */

struct rfd_log
{
  rfd_log_t *next;
  char *name;
  char *path;
  int file_fd;
  int64_t size;
  int write_fd; /* the instances' end; closed once no function uses the log */
  rfd_watch_t pipe_w;
  int refs;
  bool mid_line; /* the file does not end with a newline */
  double tokens;
  uint64_t tokens_at;
  rfd_timer_t throttle;
  uint64_t rotate_failures;
};

static rfd_log_t *logs;

static char *
logs_dir (void)
{
  return xasprintf ("%s/logs", rfd_config.state_dir);
}

static void
log_free (void *p)
{
  rfd_log_t *log = p;
  free (log->name);
  free (log->path);
  free (log);
}

static void
log_close (rfd_log_t *log)
{
  rfd_timer_cancel (&log->throttle);
  rfd_watch_close (&log->pipe_w);
  if (log->write_fd >= 0)
    close (log->write_fd);
  log->write_fd = -1;
  if (log->file_fd >= 0)
    close (log->file_fd);
  log->file_fd = -1;
  rfd_defer_free (log, log_free);
}

/* NAME.log → NAME.log.1 (replacing the one before), and a new NAME.log:
   constant work, whatever the size. */
static void
rotate (rfd_log_t *log)
{
  cleanup_free char *old = xasprintf ("%s.1", log->path);
  int fd;

  if (rename (log->path, old) == 0
      && (fd = open (log->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0)
    {
      close (log->file_fd);
      log->file_fd = fd;
      log->size = 0;
      return;
    }
  /* The file stays bounded all the same: emptied in place. */
  if (log->rotate_failures++ % 1000 == 0)
    rf_warn ("function %s: rotate `%s`: %s; emptied instead", log->name, log->path, strerror (errno));
  if (ftruncate (log->file_fd, 0) == 0)
    log->size = 0;
}

static void
append (rfd_log_t *log, const char *buf, size_t len)
{
  ssize_t n;
  if (len == 0 || log->file_fd < 0)
    return;
  if (rfd_config.log_max > 0 && log->size > 0 && log->size + (int64_t) len > rfd_config.log_max)
    rotate (log);
  n = write (log->file_fd, buf, len);
  if (n > 0)
    {
      log->size += n;
      log->mid_line = buf[n - 1] != '\n';
    }
}

/* "2006-01-02T15:04:05.000Z ": what starts every line of a log. */
#define STAMP_LEN 25

static void
format_stamp (char out[STAMP_LEN + 1])
{
  struct timeval tv;
  struct tm tm;
  unsigned ms;
  gettimeofday (&tv, NULL);
  gmtime_r (&tv.tv_sec, &tm);
  ms = (unsigned) (tv.tv_usec / 1000) % 1000;
  strftime (out, 20, "%Y-%m-%dT%H:%M:%S", &tm);
  out[19] = '.';
  out[20] = (char) ('0' + ms / 100);
  out[21] = (char) ('0' + ms / 10 % 10);
  out[22] = (char) ('0' + ms % 10);
  memcpy (out + 23, "Z ", 3);
}

/* One bite of the pipe, each line that starts in it stamped with the time
   runfd read it (so that GET /system/logs can say when, and filter by
   it).  Returns what was read (0 at EOF, -1 when there is nothing now). */
static ssize_t
pump (rfd_log_t *log)
{
  char buf[LOG_BITE];
  size_t bite = sizeof buf, lines = 0, o = 0;
  char stamp[STAMP_LEN + 1];
  cleanup_free char *out = NULL;
  bool at_start = !log->mid_line;
  ssize_t n;

  /* A small --log-max gets small bites, so the file stays near it. */
  if (rfd_config.log_max > 0 && (int64_t) bite > rfd_config.log_max / 4)
    bite = (size_t) (rfd_config.log_max / 4);
  do
    n = read (log->pipe_w.fd, buf, bite);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return n;
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == '\n' && i + 1 < n)
      lines++;
  format_stamp (stamp);
  out = xmalloc ((size_t) n + (lines + 1) * STAMP_LEN);
  for (ssize_t i = 0; i < n; i++)
    {
      if (at_start)
        {
          memcpy (out + o, stamp, STAMP_LEN);
          o += STAMP_LEN;
        }
      out[o++] = buf[i];
      at_start = buf[i] == '\n';
    }
  append (log, out, o);
  return n;
}

static void
on_throttle_end (rfd_timer_t *t)
{
  rfd_log_t *log = t->data;
  if (log->pipe_w.fd >= 0)
    rfd_watch_mod (&log->pipe_w, EPOLLIN);
}

static void
on_pipe (rfd_watch_t *w, uint32_t events)
{
  rfd_log_t *log = w->data;
  uint64_t now = rfd_now ();
  ssize_t n = pump (log);

  if (n == 0 || (n < 0 && errno != EAGAIN))
    {
      /* Every writer is gone: only a log no function uses any more gets
         here (runfd keeps a write end while one does). */
      if (log->refs == 0)
        log_close (log);
      else
        rfd_watch_del (w);
      return;
    }
  if (n < 0)
    return;
  /* A token bucket: past the rate, the pipe is left alone for as long as
     the excess takes at that rate, and the writers block on it. */
  log->tokens += (double) (now - log->tokens_at) / RFD_S * LOG_RATE;
  if (log->tokens > LOG_BURST)
    log->tokens = LOG_BURST;
  log->tokens_at = now;
  log->tokens -= (double) n;
  if (log->tokens < 0)
    {
      rfd_watch_mod (w, 0);
      rfd_timer_arm (&log->throttle, (uint64_t) (-log->tokens / LOG_RATE * RFD_S) + RFD_MS);
    }
}

rfd_log_t *
rfd_log_get (const char *name, rf_error_t *err)
{
  cleanup_free char *dir = logs_dir ();
  rfd_log_t *log;
  int p[2];
  struct stat st;

  for (log = logs; log; log = log->next)
    if (strcmp (log->name, name) == 0)
      {
        log->refs++;
        return log;
      }
  if (rf_mkdir_p (dir, 0700, err) < 0)
    return NULL;
  log = xzalloc (sizeof *log);
  log->name = xstrdup (name);
  log->path = xasprintf ("%s/%s.log", dir, name);
  log->file_fd = open (log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (log->file_fd < 0 || fstat (log->file_fd, &st) < 0)
    {
      rf_error_sys (err, "open `%s`", log->path);
      if (log->file_fd >= 0)
        close (log->file_fd);
      log_free (log);
      return NULL;
    }
  /* A log from before (this is a restart) may have been made readable to
     others: it can hold secrets a handler printed. */
  fchmod (log->file_fd, 0600);
  log->size = st.st_size;
  if (pipe2 (p, O_CLOEXEC) < 0)
    {
      rf_error_sys (err, "function %s: the log's pipe", name);
      close (log->file_fd);
      log_free (log);
      return NULL;
    }
  /* Only runfd's end is non-blocking: a handler's write waits for room. */
  fcntl (p[0], F_SETFL, O_NONBLOCK);
  log->pipe_w.fd = p[0];
  log->pipe_w.fn = on_pipe;
  log->pipe_w.data = log;
  log->write_fd = p[1];
  log->refs = 1;
  log->tokens = LOG_BURST;
  log->tokens_at = rfd_now ();
  rfd_timer_init (&log->throttle, on_throttle_end, log);
  rfd_watch_add (&log->pipe_w, EPOLLIN);
  log->next = logs;
  logs = log;
  return log;
}

/* The last function that used the log is gone: runfd lets go of its write
   end, reads what is left, and closes the file at the pipe's end (the
   spawners let go of theirs when they forget the function). */
void
rfd_log_put (rfd_log_t *log)
{
  if (log == NULL || --log->refs > 0)
    return;
  for (rfd_log_t **p = &logs; *p; p = &(*p)->next)
    if (*p == log)
      {
        *p = log->next;
        break;
      }
  close (log->write_fd);
  log->write_fd = -1;
  if (log->pipe_w.fd >= 0)
    rfd_watch_mod (&log->pipe_w, EPOLLIN);
}

int
rfd_log_write_fd (const rfd_log_t *log)
{
  return log->write_fd;
}

void
rfd_log_eventv (rfd_log_t *log, const char *fmt, va_list ap)
{
  char line[1024];
  size_t n = 0;
  int k;

  /* What the instance wrote before it ended comes first. */
  if (log->pipe_w.fd >= 0)
    pump (log);
  if (log->mid_line)
    line[n++] = '\n';
  format_stamp (line + n);
  n += STAMP_LEN;
  n += (size_t) snprintf (line + n, sizeof line - n, "runfd: ");
  k = vsnprintf (line + n, sizeof line - n - 1, fmt, ap);
  n = k < 0 ? n : n + (size_t) k >= sizeof line - 1 ? sizeof line - 2 : n + (size_t) k;
  line[n++] = '\n';
  append (log, line, n);
}

void
rfd_log_event (rfd_log_t *log, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  rfd_log_eventv (log, fmt, ap);
  va_end (ap);
}

/* --- GET /system/logs -------------------------------------------------------- */

/* A line longer than this goes out in pieces, each its own message. */
#define LINE_MAX_OUT (64 * 1024)

typedef struct
{
  rfd_watch_t w;
  char *path;
  char *name;
  int fds[2]; /* NAME.log.1 (or -1), NAME.log */
  int cur;
  off_t pos;
  ino_t ino; /* of fds[1] */
  char *raw;         /* a block of the file */
  char *out;         /* what goes to the client */
  size_t off, len, cap;
  char *line;        /* a line not yet whole */
  size_t line_len;
  bool json;         /* OpenFaaS's JSON lines, else the file's text */
  int64_t since_ms;  /* lines from then on (0: all) */
  int64_t last_ms;   /* the time of the line before: a line without a stamp has it */
  bool follow;
  /* --tail: scanning back from the end, one block per wakeup */
  bool scanning, scan_first;
  long tail, lines;
  int scan_file;
  off_t scan_pos;
  rfd_timer_t t;
} reader_t;

static void reader_step (reader_t *r);

static void
reader_free_cb (void *p)
{
  reader_t *r = p;
  free (r->path);
  free (r->name);
  free (r->raw);
  free (r->out);
  free (r->line);
  free (r);
}

static void
reader_free (reader_t *r)
{
  rfd_timer_cancel (&r->t);
  rfd_watch_close (&r->w);
  for (int i = 0; i < 2; i++)
    if (r->fds[i] >= 0)
      close (r->fds[i]);
  rfd_defer_free (r, reader_free_cb);
}

static void
on_reader_timer (rfd_timer_t *t)
{
  reader_step (t->data);
}

static void
on_reader_event (rfd_watch_t *w, uint32_t events)
{
  reader_t *r = w->data;
  if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
    {
      reader_free (r);
      return;
    }
  reader_step (r);
}

static off_t
file_size (int fd)
{
  struct stat st;
  return fd >= 0 && fstat (fd, &st) == 0 ? st.st_size : 0;
}

static bool
digits_p (const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

/* An RFC 3339 time (2006-01-02T15:04:05[.frac](Z|+hh:mm)) as milliseconds
   since the epoch; *end is past it.  -1 if s is none. */
static int64_t
parse_rfc3339 (const char *s, size_t n, size_t *end)
{
  struct tm tm;
  int64_t ms = 0, frac_scale = 100;
  size_t i = 19;
  long off = 0;
  time_t t;
  if (n < 20 || !digits_p (s, 4) || s[4] != '-' || !digits_p (s + 5, 2) || s[7] != '-' || !digits_p (s + 8, 2)
      || (s[10] != 'T' && s[10] != 't') || !digits_p (s + 11, 2) || s[13] != ':' || !digits_p (s + 14, 2)
      || s[16] != ':' || !digits_p (s + 17, 2))
    return -1;
  memset (&tm, 0, sizeof tm);
  tm.tm_year = atoi (s) - 1900;
  tm.tm_mon = atoi (s + 5) - 1;
  tm.tm_mday = atoi (s + 8);
  tm.tm_hour = atoi (s + 11);
  tm.tm_min = atoi (s + 14);
  tm.tm_sec = atoi (s + 17);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
    return -1;
  if (i < n && s[i] == '.')
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
      {
        ms += (s[i] - '0') * frac_scale;
        frac_scale /= 10;
      }
  if (i < n && (s[i] == 'Z' || s[i] == 'z'))
    i++;
  else if (i + 6 <= n && (s[i] == '+' || s[i] == '-') && digits_p (s + i + 1, 2) && s[i + 3] == ':'
           && digits_p (s + i + 4, 2))
    {
      off = (atoi (s + i + 1) * 60 + atoi (s + i + 4)) * 60 * (s[i] == '-' ? -1 : 1);
      i += 6;
    }
  else
    return -1;
  t = timegm (&tm);
  *end = i;
  return ((int64_t) t - off) * 1000 + ms;
}

static void
out_add (reader_t *r, const char *p, size_t n)
{
  if (r->len + n > r->cap)
    {
      r->cap = (r->len + n) * 2;
      r->out = xrealloc (r->out, r->cap);
    }
  memcpy (r->out + r->len, p, n);
  r->len += n;
}

/* JSON wants UTF-8: bytes that are not become '?'. */
static json_t *
text_json (const char *p, size_t n)
{
  json_t *j = json_stringn (p, n);
  if (j == NULL)
    {
      cleanup_free char *copy = xstrndup (p, n);
      for (size_t i = 0; i < n; i++)
        if ((unsigned char) copy[i] >= 0x80 || copy[i] == '\0')
          copy[i] = '?';
      j = json_stringn (copy, n);
    }
  return j;
}

/* One line (without its newline) of the log: as it is, or as OpenFaaS's
   log message, if it is not older than since. */
static void
emit_line (reader_t *r, const char *p, size_t n, bool newline)
{
  size_t end = 0;
  int64_t ms = n >= STAMP_LEN ? parse_rfc3339 (p, n, &end) : -1;
  if (ms >= 0 && end < n && p[end] == ' ')
    {
      r->last_ms = ms;
      p += end + 1;
      n -= end + 1;
    }
  else if (!r->json)
    end = 0;
  if (r->since_ms && r->last_ms < r->since_ms)
    return;
  if (!r->json)
    {
      /* The text as the file has it, stamp and all. */
      if (end)
        {
          p -= end + 1;
          n += end + 1;
        }
      out_add (r, p, n);
      if (newline)
        out_add (r, "\n", 1);
      return;
    }
  {
    char when[40];
    time_t secs = (time_t) (r->last_ms / 1000);
    struct tm tm;
    cleanup_free char *text = NULL;
    json_t *msg;
    bool own = n >= 7 && memcmp (p, "runfd: ", 7) == 0;
    gmtime_r (&secs, &tm);
    strftime (when, 20, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf (when + 19, sizeof when - 19, ".%03dZ", (int) (r->last_ms % 1000));
    msg = json_pack ("{s:s, s:s, s:s, s:s, s:o}", "name", r->name, "namespace", rfd_namespace, "instance",
                     own ? "runfd" : r->name, "timestamp", when, "text",
                     own ? text_json (p + 7, n - 7) : text_json (p, n));
    text = json_dumps (msg, JSON_COMPACT);
    json_decref (msg);
    out_add (r, text, strlen (text));
    out_add (r, "\n", 1);
  }
}

/* A block of the file into lines: whole ones go out, the rest waits for
   the next block (or goes out in pieces past LINE_MAX_OUT). */
static void
feed (reader_t *r, const char *p, size_t n)
{
  while (n > 0)
    {
      const char *nl = memchr (p, '\n', n);
      size_t k = nl ? (size_t) (nl - p) : n;
      if (r->line_len + k > LINE_MAX_OUT)
        k = LINE_MAX_OUT - r->line_len;
      memcpy (r->line + r->line_len, p, k);
      r->line_len += k;
      p += k;
      n -= k;
      if (n > 0 && *p == '\n')
        {
          emit_line (r, r->line, r->line_len, true);
          r->line_len = 0;
          p++;
          n--;
        }
      else if (r->line_len == LINE_MAX_OUT)
        {
          emit_line (r, r->line, r->line_len, false);
          r->line_len = 0;
        }
    }
}

/* One block of the backward scan for the last r->tail lines. */
static void
scan_step (reader_t *r)
{
  char block[READ_BLOCK];
  for (;;)
    {
      size_t want;
      ssize_t n;
      if (r->scan_pos == 0)
        {
          if (r->scan_file == 1 && r->fds[0] >= 0)
            {
              r->scan_file = 0;
              r->scan_pos = file_size (r->fds[0]);
              continue;
            }
          /* Fewer lines than asked for: all of it. */
          r->scanning = false;
          r->cur = r->fds[0] >= 0 ? 0 : 1;
          r->pos = 0;
          return;
        }
      want = r->scan_pos > READ_BLOCK ? READ_BLOCK : (size_t) r->scan_pos;
      n = pread (r->fds[r->scan_file], block, want, r->scan_pos - (off_t) want);
      if (n != (ssize_t) want)
        {
          r->scanning = false;
          r->cur = 1;
          r->pos = 0;
          return;
        }
      for (ssize_t i = n - 1; i >= 0; i--)
        {
          bool first = r->scan_first;
          r->scan_first = false;
          /* The log's own last newline ends its last line, it does not
             start another. */
          if (block[i] != '\n' || first)
            continue;
          if (++r->lines >= r->tail)
            {
              r->scanning = false;
              r->cur = r->scan_file;
              r->pos = r->scan_pos - (off_t) want + i + 1;
              return;
            }
        }
      r->scan_pos -= (off_t) want;
      /* One block per wakeup: a long log without newlines is read back
         over many. */
      return;
    }
}

static void
reader_step (reader_t *r)
{
  if (r->scanning)
    {
      scan_step (r);
      if (r->scanning)
        rfd_timer_arm (&r->t, 0);
      else
        rfd_watch_mod (&r->w, EPOLLOUT | EPOLLRDHUP);
      return;
    }
  if (r->off == r->len)
    {
      ssize_t n;
      r->off = r->len = 0;
      n = pread (r->fds[r->cur], r->raw, READ_BLOCK, r->pos);
      if (n < 0)
        {
          reader_free (r);
          return;
        }
      if (n == 0 && r->cur == 0)
        {
          r->cur = 1;
          r->pos = 0;
          rfd_timer_arm (&r->t, 0);
          return;
        }
      if (n == 0)
        {
          struct stat st;
          if (!r->follow)
            {
              /* A last line without its newline. */
              if (r->line_len)
                {
                  emit_line (r, r->line, r->line_len, false);
                  r->line_len = 0;
                  rfd_watch_mod (&r->w, EPOLLOUT | EPOLLRDHUP);
                  return;
                }
              shutdown (r->w.fd, SHUT_WR);
              reader_free (r);
              return;
            }
          /* Rotated: what the old file held is all read; go on in the
             new one. */
          if (stat (r->path, &st) == 0 && st.st_ino != r->ino)
            {
              int fd = open (r->path, O_RDONLY | O_CLOEXEC);
              if (fd >= 0)
                {
                  close (r->fds[1]);
                  r->fds[1] = fd;
                  r->ino = st.st_ino;
                  r->pos = 0;
                  rfd_timer_arm (&r->t, 0);
                  return;
                }
            }
          rfd_watch_mod (&r->w, EPOLLRDHUP);
          rfd_timer_arm (&r->t, 200 * RFD_MS);
          return;
        }
      r->pos += n;
      feed (r, r->raw, (size_t) n);
      if (r->len == 0)
        {
          /* Nothing of this block goes out (since, or a line not yet
             whole): the next, in turn with the rest of the loop. */
          rfd_timer_arm (&r->t, 0);
          return;
        }
    }
  {
    ssize_t n = send (r->w.fd, r->out + r->off, r->len - r->off, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      {
        reader_free (r);
        return;
      }
    if (n > 0)
      r->off += (size_t) n;
  }
  /* Level-triggered: called again as soon as the socket takes more, in
     turn with everything else the loop serves. */
  rfd_timer_cancel (&r->t);
  rfd_watch_mod (&r->w, EPOLLOUT | EPOLLRDHUP);
}

int64_t
rfd_logs_parse_since (const char *s)
{
  size_t end = 0;
  int64_t ms = parse_rfc3339 (s, strlen (s), &end);
  return ms >= 0 && s[end] == '\0' ? ms : -1;
}

void
rfd_logs_serve (int fd, const char *name, long tail, bool follow, bool json, int64_t since_ms)
{
  static const char head_text[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";
  static const char head_json[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n";
  cleanup_free char *dir = logs_dir ();
  cleanup_free char *old = NULL;
  reader_t *r = xzalloc (sizeof *r);
  struct stat st;

  r->w.fd = fd;
  r->w.fn = on_reader_event;
  r->w.data = r;
  r->path = xasprintf ("%s/%s.log", dir, name);
  r->name = xstrdup (name);
  old = xasprintf ("%s.1", r->path);
  r->fds[0] = open (old, O_RDONLY | O_CLOEXEC);
  r->fds[1] = open (r->path, O_RDONLY | O_CLOEXEC);
  r->follow = follow;
  r->json = json;
  r->since_ms = since_ms;
  r->raw = xmalloc (READ_BLOCK);
  r->line = xmalloc (LINE_MAX_OUT);
  rfd_timer_init (&r->t, on_reader_timer, r);
  if (r->fds[1] < 0 || fstat (r->fds[1], &st) < 0)
    {
      /* No log yet (nothing was ever written): an empty one. */
      if (r->fds[1] >= 0)
        close (r->fds[1]);
      r->fds[1] = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      st.st_ino = 0;
      st.st_mtime = time (NULL);
    }
  /* Lines from before runfd stamped them have the file's time. */
  r->last_ms = (int64_t) st.st_mtime * 1000;
  r->ino = st.st_ino;
  if (json)
    out_add (r, head_json, sizeof head_json - 1);
  else
    out_add (r, head_text, sizeof head_text - 1);
  r->pos = 0;
  r->cur = r->fds[0] >= 0 ? 0 : 1;
  if (tail >= 0)
    {
      r->scanning = true;
      r->scan_first = true;
      r->tail = tail;
      r->scan_file = 1;
      r->scan_pos = file_size (r->fds[1]);
      if (tail == 0)
        {
          r->scanning = false;
          r->cur = 1;
          r->pos = r->scan_pos;
        }
    }
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
  if (rfd_watch_add (&r->w, r->scanning ? EPOLLRDHUP : EPOLLOUT | EPOLLRDHUP) < 0)
    {
      reader_free (r);
      return;
    }
  if (r->scanning)
    rfd_timer_arm (&r->t, 0);
}
