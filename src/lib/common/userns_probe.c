#include "common/userns_probe.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"

bool
rf_uid_map_initial_p (const char *text)
{
  unsigned long a, b, c;
  /* The initial namespace maps every id, in one line: "0 0 4294967295". */
  return sscanf (text, "%lu %lu %lu", &a, &b, &c) == 3 && a == 0 && b == 0 && c == 4294967295UL;
}

bool
rf_userns_nested_p (void)
{
  cleanup_free char *text = NULL;
  if (rf_read_file_at (AT_FDCWD, "/proc/self/uid_map", 65536, &text, NULL, NULL) < 0)
    return false;
  return !rf_uid_map_initial_p (text);
}

bool
rf_rootless_p (void)
{
  return geteuid () != 0 || rf_userns_nested_p ();
}
