#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "jsonutil.h"

static const char *program = "runf";
static bool debug_on;
static int log_fd = -1;
static bool log_json;

void
rf_log_init (const char *name)
{
  program = name;
}

void
rf_log_set_debug (bool on)
{
  debug_on = on;
}

bool
rf_log_debug_p (void)
{
  return debug_on;
}

int
rf_log_open (const char *file, const char *format, char **why)
{
  if (format && strcmp (format, "text") != 0 && strcmp (format, "json") != 0)
    {
      *why = xasprintf ("--log-format `%s`: must be text or json", format);
      return -1;
    }
  log_json = format && strcmp (format, "json") == 0;
  if (file == NULL)
    return 0;
  log_fd = open (file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (log_fd < 0)
    {
      *why = xasprintf ("--log `%s`: %s", file, strerror (errno));
      return -1;
    }
  return 0;
}

int
rf_log_fd (void)
{
  return log_fd;
}

static const char *
level_name (rf_log_level_t level)
{
  switch (level)
    {
    case RF_LOG_DEBUG: return "debug";
    case RF_LOG_INFO: return "info";
    case RF_LOG_WARN: return "warning";
    default: return "error";
    }
}

static void
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      buf += n;
      len -= n;
    }
}

/* One line in runc's (logrus's) layout: text `time="..." level=... msg="..."`
   or a JSON object. */
static char *
format_line (rf_log_level_t level, const char *msg, bool json)
{
  struct timeval tv;
  struct tm tm;
  char stamp[64];
  cleanup_free char *quoted = rf_json_quote (msg);

  gettimeofday (&tv, NULL);
  gmtime_r (&tv.tv_sec, &tm);
  snprintf (stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
            tm.tm_min, tm.tm_sec, (long) tv.tv_usec);
  if (json)
    return xasprintf ("{\"level\":\"%s\",\"msg\":%s,\"time\":\"%s\"}\n", level_name (level), quoted,
                      stamp);
  return xasprintf ("time=\"%s\" level=%s msg=%s\n", stamp, level_name (level), quoted);
}

void
rf_log (rf_log_level_t level, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  cleanup_free char *line = NULL;
  int saved = errno;
  va_list ap;

  va_start (ap, fmt);
  msg = xvasprintf (fmt, ap);
  va_end (ap);

  if (log_fd >= 0)
    {
      line = format_line (level, msg, log_json);
      write_all (log_fd, line, strlen (line));
      free (line);
      line = NULL;
    }
  /* With --log, debug lines go only to the file: engines read stderr as the
     error text of a failed command.  Without, they go to stderr in runc's
     layout (--log-format picks text or JSON), apart from the one line of an
     error, which stays "runf: ...". */
  if (level == RF_LOG_DEBUG && log_fd < 0)
    line = format_line (level, msg, log_json);
  else if (level != RF_LOG_DEBUG)
    {
      const char *tag = level == RF_LOG_WARN ? "warning: " : "";
      line = xasprintf ("%s: %s%s\n", program, tag, msg);
    }
  if (line)
    write_all (STDERR_FILENO, line, strlen (line));
  errno = saved;
}
