/* libsystemd through the dynamic loader (cgroup_systemd.h), in a file of
 * its own: a static program that links the runtime, runfd-spawner, defines
 * rf_libsystemd_load itself, and then the linker takes neither this file
 * nor the loader's warning about dlopen in static programs. */
#include "cgroup_systemd.h"

#include <dlfcn.h>

int
rf_libsystemd_load (void **handle, const char *const *names, void **fns, size_t n, rf_error_t *err)
{
  void *h = dlopen ("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    return rf_error_make (err, 0, "--systemd-cgroup: load libsystemd: %s", dlerror ());
  for (size_t i = 0; i < n; i++)
    if ((fns[i] = dlsym (h, names[i])) == NULL)
      {
        dlclose (h);
        return rf_error_make (err, 0, "--systemd-cgroup: libsystemd has no `%s`", names[i]);
      }
  *handle = h;
  return 0;
}
