#include "common/netif.h"

#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "common/cleanup.h"

int
rf_netif_up (const char *name, rf_error_t *err)
{
  struct ifreq ifr;
  cleanup_close int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  memset (&ifr, 0, sizeof ifr);
  if (strlen (name) >= sizeof ifr.ifr_name)
    return rf_error_make (err, ENAMETOOLONG, "interface `%s`: name too long", name);
  strcpy (ifr.ifr_name, name);
  if (s < 0 || ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    return rf_error_sys (err, "interface `%s`", name);
  if (ifr.ifr_flags & IFF_UP)
    return 0;
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    return rf_error_sys (err, "bring up `%s`", name);
  return 0;
}
