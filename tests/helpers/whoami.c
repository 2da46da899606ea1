/* Prints "euid=N" and whether /etc/shadow could be opened: what a set-id
   bit or a file capability on this program gave whoever ran it. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int
main (void)
{
  int fd = open ("/etc/shadow", O_RDONLY);
  printf ("euid=%d shadow=%s\n", (int) geteuid (), fd >= 0 ? "read" : "refused");
  return 0;
}
