/* runf-trampoline: the last step between runf's code and a container's
 * program.  A container's init (and every `runf exec`) is a fork of runf:
 * until it execs, /proc/self/exe is runf's binary on the host, and a
 * program that is `#!/proc/self/exe` would have the kernel run that binary
 * again inside the container, where its processes could reopen it for
 * writing (CVE-2019-5736).  So the final execve goes through this program,
 * which runf keeps in a sealed memfd: the exec that the container sees
 * from /proc is this copy in memory, which nothing can change.
 *
 * It is a few hundred bytes of code with no libc: exec'ing it costs little
 * (a libc's start-up asks the CPU about itself, which traps in a VM), and
 * it makes no system call but those below, all under the container's
 * seccomp filter already.
 *
 *   argv: runf-trampoline REPORT LSM LSM-LABEL CAPS EXE ARGV0 ARGV1 ...
 *   REPORT     FD:s  a failed exec is reported on runf's sync socket FD
 *              FD:f  ... as "E<text>" on exec.fifo FD (`runf start` reads it)
 *              -     not reported (stderr only)
 *   LSM        -, or FD:NAME: FD is /proc/thread-self/attr (O_PATH) and
 *              its file NAME (exec, apparmor/exec) gets LSM-LABEL just
 *              before the exec (the label must apply to the container's
 *              program, not to this one).  Opened here: the kernel takes
 *              the write only through a file opened with the writer's
 *              credentials, and this program's exec made them new
 *   CAPS       -, or E:P:I:A in hex: the capability sets (effective,
 *              permitted, inheritable, ambient) to set before the exec.  A
 *              process that is not root keeps only its ambient capabilities
 *              across an exec, so runf carries the ones that decide whether
 *              the program may be exec'd at all (CAP_DAC_OVERRIDE,
 *              CAP_DAC_READ_SEARCH) as ambient ones into this program,
 *              which puts the configured sets back
 *
 * The report fd comes without close-on-exec and gets it here, so that its
 * end closes when the program starts: `runf start` and `runf run` read EOF
 * as success. */

#include <stddef.h>
#include <stdint.h>

#include "runtime/linux/sync.h"

#if defined(__x86_64__)
#define NR_write 1
#define NR_close 3
#define NR_openat 257
#define NR_fcntl 72
#define NR_execve 59
#define NR_exit_group 231
#define NR_capset 126
#define NR_prctl 157
static long
sys5 (long n, long a, long b, long c, long d, long e)
{
  long r;
  register long r10 __asm__ ("r10") = d;
  register long r8 __asm__ ("r8") = e;
  __asm__ volatile ("syscall"
                    : "=a"(r)
                    : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                    : "rcx", "r11", "memory");
  return r;
}
__asm__ (".text\n.global _start\n_start:\n"
         "  xor %rbp, %rbp\n"
         "  mov %rsp, %rdi\n"
         "  and $-16, %rsp\n"
         "  call trampoline_main\n"
         "  hlt\n");
#elif defined(__aarch64__)
#define NR_write 64
#define NR_close 57
#define NR_openat 56
#define NR_fcntl 25
#define NR_execve 221
#define NR_exit_group 94
#define NR_capset 91
#define NR_prctl 167
static long
sys5 (long n, long a, long b, long c, long d, long e)
{
  register long x8 __asm__ ("x8") = n;
  register long x0 __asm__ ("x0") = a;
  register long x1 __asm__ ("x1") = b;
  register long x2 __asm__ ("x2") = c;
  register long x3 __asm__ ("x3") = d;
  register long x4 __asm__ ("x4") = e;
  __asm__ volatile ("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory");
  return x0;
}
__asm__ (".text\n.global _start\n_start:\n"
         "  mov x29, #0\n"
         "  mov x0, sp\n"
         "  bl trampoline_main\n"
         "  brk #0\n");
#else
#error "runf-trampoline: no system call glue for this architecture"
#endif

#define sys3(n, a, b, c) sys5 ((n), (a), (b), (c), 0, 0)

#define F_SETFD_ 2
#define FD_CLOEXEC_ 1
#define O_WRONLY_ 01
#define O_CLOEXEC_ 02000000
#define PR_CAP_AMBIENT_ 47
#define PR_CAP_AMBIENT_RAISE_ 2
#define PR_CAP_AMBIENT_CLEAR_ALL_ 4
#define CAP_VERSION_3_ 0x20080522

struct cap_header_
{
  unsigned int version;
  int pid;
};

struct cap_data_
{
  unsigned int effective, permitted, inheritable;
};

void trampoline_main (long *sp) __attribute__ ((noreturn, used));

static size_t
str_len (const char *s)
{
  size_t n = 0;
  while (s[n])
    n++;
  return n;
}

/* Appends src to buf (of cap bytes, kept NUL-terminated) at *len. */
static void
append (char *buf, size_t cap, size_t *len, const char *src)
{
  while (*src && *len + 1 < cap)
    buf[(*len)++] = *src++;
  buf[*len] = '\0';
}

static int
parse_fd (const char *s, char *kind)
{
  int fd = 0;
  if (*s < '0' || *s > '9')
    return -1;
  while (*s >= '0' && *s <= '9')
    fd = fd * 10 + (*s++ - '0');
  if (kind)
    *kind = *s == ':' ? s[1] : '\0';
  return fd;
}

/* The next hex number of s (up to a ':' or the end); *s moves past it. */
static unsigned long long
parse_hex (const char **s)
{
  unsigned long long v = 0;
  for (;; (*s)++)
    {
      char c = **s;
      if (c >= '0' && c <= '9')
        v = v * 16 + (unsigned long long) (c - '0');
      else if (c >= 'a' && c <= 'f')
        v = v * 16 + (unsigned long long) (c - 'a' + 10);
      else
        break;
    }
  if (**s == ':')
    (*s)++;
  return v;
}

/* The sets of CAPS (see the top): 0, or the errno of what failed. */
static long
set_caps (const char *arg)
{
  static struct cap_header_ hdr = { CAP_VERSION_3_, 0 };
  static struct cap_data_ data[2];
  unsigned long long set[4];
  long r;

  for (int i = 0; i < 4; i++)
    set[i] = parse_hex (&arg);
  for (int i = 0; i < 2; i++)
    {
      data[i].effective = (unsigned int) (set[0] >> (32 * i));
      data[i].permitted = (unsigned int) (set[1] >> (32 * i));
      data[i].inheritable = (unsigned int) (set[2] >> (32 * i));
    }
  r = sys3 (NR_capset, (long) &hdr, (long) data, 0);
  if (r < 0)
    return -r;
  r = sys5 (NR_prctl, PR_CAP_AMBIENT_, PR_CAP_AMBIENT_CLEAR_ALL_, 0, 0, 0);
  if (r < 0)
    return -r;
  for (int cap = 0; cap < 64; cap++)
    if ((set[3] >> cap) & 1)
      {
        r = sys5 (NR_prctl, PR_CAP_AMBIENT_, PR_CAP_AMBIENT_RAISE_, cap, 0, 0);
        if (r < 0)
          return -r;
      }
  return 0;
}

/* The kernel's words, as runf's own exec errors put them (engines turn
   "no such file or directory" into 127 and "permission denied" into 126,
   as with runc). */
static const char *
describe (long e)
{
  switch (e)
    {
    case 2: return "no such file or directory";
    case 13: return "permission denied";
    case 8: return "exec format error";
    case 7: return "argument list too long";
    case 12: return "cannot allocate memory";
    case 20: return "not a directory";
    case 21: return "is a directory";
    case 26: return "text file busy";
    case 36: return "file name too long";
    case 40: return "too many levels of symbolic links";
    case 1: return "operation not permitted";
    case 80: return "accessing a corrupted shared library";
    case 24: return "too many open files";
    default: return "exec failed";
    }
}

void
trampoline_main (long *sp)
{
  long argc = sp[0];
  char **argv = (char **) (sp + 1);
  char **envp = argv + argc + 1;
  static rf_sync_msg_t msg;
  size_t len = 0;
  char kind = '\0';
  int report, lsm;
  long r;

  if (argc < 7)
    {
      static const char usage[] = "runf-trampoline: runf's last step into a container; not a command\n";
      sys3 (NR_write, 2, (long) usage, sizeof usage - 1);
      sys3 (NR_exit_group, 127, 0, 0);
    }
  report = parse_fd (argv[1], &kind);
  lsm = parse_fd (argv[2], NULL);
  if (lsm >= 0)
    {
      const char *name = argv[2];
      while (*name && *name != ':')
        name++;
      r = *name ? sys3 (NR_openat, lsm, (long) (name + 1), O_WRONLY_ | O_CLOEXEC_) : -22;
      sys3 (NR_close, lsm, 0, 0);
      if (r >= 0)
        {
          lsm = (int) r;
          r = sys3 (NR_write, lsm, (long) argv[3], (long) str_len (argv[3]));
        }
      if (r < 0)
        {
          append (msg.text, sizeof msg.text, &len, "process.apparmorProfile or selinuxLabel `");
          append (msg.text, sizeof msg.text, &len, argv[3]);
          append (msg.text, sizeof msg.text, &len, "`: ");
          append (msg.text, sizeof msg.text, &len, describe (-r));
          goto fail;
        }
      sys3 (NR_close, lsm, 0, 0);
    }
  /* The report fd must not reach the program: where the container's
     seccomp filter refuses fcntl, it is closed instead, and a failed exec
     is told on stderr only. */
  if (report >= 0 && sys3 (NR_fcntl, report, F_SETFD_, FD_CLOEXEC_) < 0)
    {
      sys3 (NR_close, report, 0, 0);
      report = -1;
    }
  /* Never an exec with the carried capabilities still ambient: they would
     stay the program's. */
  if (argv[4][0] != '-' && (r = set_caps (argv[4])) != 0)
    {
      append (msg.text, sizeof msg.text, &len, "exec ");
      append (msg.text, sizeof msg.text, &len, argv[5]);
      append (msg.text, sizeof msg.text, &len, ": set the process's capabilities back: ");
      append (msg.text, sizeof msg.text, &len, describe (r));
      goto fail;
    }
  r = sys3 (NR_execve, (long) argv[5], (long) (argv + 6), (long) envp);
  /* runc's words (Go's os.PathError): engines look for them. */
  append (msg.text, sizeof msg.text, &len, "exec ");
  append (msg.text, sizeof msg.text, &len, argv[5]);
  append (msg.text, sizeof msg.text, &len, ": ");
  append (msg.text, sizeof msg.text, &len, describe (-r));

fail:
  if (report >= 0 && kind == 's')
    {
      msg.type = RF_SYNC_ERROR;
      msg.code = 0;
      sys3 (NR_write, report, (long) &msg, (long) (offsetof (rf_sync_msg_t, text) + len + 1));
    }
  else if (report >= 0 && kind == 'f')
    {
      /* One write: `runf start` may read as soon as the first byte is in. */
      static char line[sizeof msg.text + 1];
      size_t n = 0;
      append (line, sizeof line, &n, "E");
      append (line, sizeof line, &n, msg.text);
      sys3 (NR_write, report, (long) line, (long) n);
    }
  else
    {
      sys3 (NR_write, 2, (long) "runf: ", 6);
      msg.text[len] = '\n';
      sys3 (NR_write, 2, (long) msg.text, (long) len + 1);
    }
  sys3 (NR_exit_group, 127, 0, 0);
  __builtin_unreachable ();
}
