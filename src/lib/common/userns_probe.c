#include <fcntl.h>
#include <stdio.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/userns_probe.h"

bool
rf_userns_nested_p (void)
{
  cleanup_free char *text = NULL;
  unsigned a, b, c;
  if (rf_read_file_at (AT_FDCWD, "/proc/self/uid_map", 4096, &text, NULL, NULL) < 0)
    return false;
  if (sscanf (text, "%u %u %u", &a, &b, &c) != 3)
    return true;
  return !(a == 0 && b == 0 && c == 4294967295U);
}
