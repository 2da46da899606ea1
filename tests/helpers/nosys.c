/* nosys NR... -- CMD [ARG...]: run CMD with the system calls numbered NR
 * answering ENOSYS, as a container engine's seccomp profile answers the
 * calls newer than itself (docker's default profile: clone3), or as a
 * kernel without them does.  x86_64 only; the filter goes in without
 * no_new_privs, so root (CAP_SYS_ADMIN) only. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_CALLS 16

int
main (int argc, char **argv)
{
  struct sock_filter prog[4 + 2 * MAX_CALLS + 1];
  size_t n = 0, calls = 0;
  int i = 1;

  prog[n++] = (struct sock_filter) BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch));
  prog[n++] = (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  prog[n++] = (struct sock_filter) BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  prog[n++] = (struct sock_filter) BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr));
  for (; i < argc && strcmp (argv[i], "--") != 0; i++)
    {
      char *end;
      long nr = strtol (argv[i], &end, 10);
      if (*argv[i] == '\0' || *end != '\0' || nr < 0 || calls == MAX_CALLS)
        {
          fprintf (stderr, "nosys: `%s`: expected a system call's number (at most %d)\n", argv[i], MAX_CALLS);
          return 2;
        }
      prog[n++] = (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, (unsigned) nr, 0, 1);
      prog[n++] = (struct sock_filter) BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
      calls++;
    }
  prog[n++] = (struct sock_filter) BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  if (i + 1 >= argc)
    {
      fprintf (stderr, "usage: nosys NR... -- CMD [ARG...]\n");
      return 2;
    }
  {
    struct sock_fprog fprog = { .len = (unsigned short) n, .filter = prog };
    if (prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) < 0)
      {
        perror ("nosys: PR_SET_SECCOMP");
        return 1;
      }
  }
  execvp (argv[i + 1], argv + i + 1);
  fprintf (stderr, "nosys: exec %s: %s\n", argv[i + 1], strerror (errno));
  return 127;
}
