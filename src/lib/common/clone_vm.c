/* rf_clone_vm (common/syscalls.h): clone3 with CLONE_VM, the child on a
 * stack of its own.  The child cannot return from the system call into
 * the caller's frames, which its parent goes on using: it calls fn from
 * the assembly that made the call, on the new stack, and exits there. */
#include <errno.h>
#include <sys/syscall.h>

#include "syscalls.h"

#ifdef RF_HAVE_CLONE_VM
pid_t
rf_clone_vm (struct rf_clone_args *args, int (*fn) (void *), void *arg)
{
  /* Callee-saved registers reach the child unchanged; the kernel points
     its stack pointer at stack + stack_size, 16-byte aligned as the call
     needs since both are page-aligned. */
  register long r12 __asm__ ("r12") = (long) fn;
  register long r13 __asm__ ("r13") = (long) arg;
  long ret;

  args->flags |= CLONE_VM;
  __asm__ volatile ("syscall\n\t"
                    "testq %%rax, %%rax\n\t"
                    "jnz 1f\n\t"
                    "xorl %%ebp, %%ebp\n\t"
                    "movq %%r13, %%rdi\n\t"
                    "callq *%%r12\n\t"
                    "movl %%eax, %%edi\n\t"
                    "movl %[exit], %%eax\n\t"
                    "syscall\n\t"
                    "ud2\n"
                    "1:"
                    : "=a"(ret)
                    : "a"((long) SYS_clone3), "D"(args), "S"(sizeof *args), "r"(r12), "r"(r13),
                      [exit] "i"(SYS_exit)
                    : "rcx", "r11", "rdx", "r8", "r9", "r10", "memory", "cc");
  args->flags &= ~(uint64_t) CLONE_VM;
  if (ret < 0)
    {
      errno = (int) -ret;
      return -1;
    }
  return (pid_t) ret;
}
#else
pid_t
rf_clone_vm (struct rf_clone_args *args, int (*fn) (void *), void *arg)
{
  (void) args, (void) fn, (void) arg;
  errno = ENOSYS;
  return -1;
}
#endif
