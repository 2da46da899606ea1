/* Applying the capability sets to the calling process (caps.h). */
#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int
rf_caps_drop_bounding (const rf_caps_t *caps, rf_error_t *err)
{
  int last = rf_cap_last ();
  for (int cap = 0; cap <= last; cap++)
    {
      if (caps->bounding & (1ULL << cap))
        continue;
      if (prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
        return rf_error_sys (err, "drop %s from the bounding set",
                             rf_cap_name (cap));
    }
  return 0;
}

int
rf_caps_apply (const rf_caps_t *caps, rf_error_t *err)
{
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  int last = rf_cap_last ();

  for (int i = 0; i < 2; i++)
    {
      data[i].effective = (uint32_t) (caps->effective >> (32 * i));
      data[i].permitted = (uint32_t) (caps->permitted >> (32 * i));
      data[i].inheritable = (uint32_t) (caps->inheritable >> (32 * i));
    }
  if (syscall (SYS_capset, &hdr, data) < 0)
    return rf_error_sys (err, "set capabilities");

  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0
      && errno != EINVAL)
    return rf_error_sys (err, "clear ambient capabilities");
  for (int cap = 0; cap <= last; cap++)
    {
      if (!(caps->ambient & (1ULL << cap)))
        continue;
      /* The kernel only raises an ambient capability that is also permitted
         and inheritable; runc's default spec lists ambient capabilities
         without inheritable ones, and runc and crun skip those too. */
      if (!(caps->permitted & caps->inheritable & (1ULL << cap)))
        continue;
      if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
        return rf_error_sys (err, "raise ambient %s", rf_cap_name (cap));
    }
  return 0;
}
