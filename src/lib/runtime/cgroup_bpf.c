/* Device rules on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program built
 * from the rules.  The program tries the rules from the last to the first;
 * the first that matches decides (later rules override earlier ones, as
 * with v1's devices.allow/deny).  An allow rule matches when it covers all
 * the access asked for, a deny rule when it covers any of it.  No match:
 * denied. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "common/cleanup.h"

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(dst, src, off) INSN (BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm) INSN (BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_REG(dst, src) INSN (BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm) INSN (BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP_IMM(op, dst, imm, off) INSN (BPF_JMP | (op) | BPF_K, dst, 0, off, imm)
#define EXIT_INSN() INSN (BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static int
access_bits (const char *access)
{
  int bits = 0;
  if (strchr (access, 'm'))
    bits |= BPF_DEVCG_ACC_MKNOD;
  if (strchr (access, 'r'))
    bits |= BPF_DEVCG_ACC_READ;
  if (strchr (access, 'w'))
    bits |= BPF_DEVCG_ACC_WRITE;
  return bits;
}

/* One rule's instructions; returns how many were written. */
static size_t
emit_rule (struct bpf_insn *out, const rf_device_rule_t *r)
{
  struct bpf_insn block[8];
  size_t n = 0;
  int acc = access_bits (r->access);
  int jumps[8], nj = 0;

  if (r->type != 'a')
    {
      jumps[nj++] = n;
      block[n++] = JMP_IMM (BPF_JNE, BPF_REG_2, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0);
    }
  if (acc != 7 || !r->allow)
    {
      block[n++] = MOV32_REG (BPF_REG_1, BPF_REG_3);
      block[n++] = ALU32_IMM (BPF_AND, BPF_REG_1, r->allow ? ~acc & 7 : acc);
      jumps[nj++] = n;
      block[n++] = JMP_IMM (r->allow ? BPF_JNE : BPF_JEQ, BPF_REG_1, 0, 0);
    }
  if (r->major >= 0)
    {
      jumps[nj++] = n;
      block[n++] = JMP_IMM (BPF_JNE, BPF_REG_4, (int32_t) r->major, 0);
    }
  if (r->minor >= 0)
    {
      jumps[nj++] = n;
      block[n++] = JMP_IMM (BPF_JNE, BPF_REG_5, (int32_t) r->minor, 0);
    }
  block[n++] = MOV64_IMM (BPF_REG_0, r->allow ? 1 : 0);
  block[n++] = EXIT_INSN ();
  /* Every failed check jumps past the end of this rule. */
  for (int j = 0; j < nj; j++)
    block[jumps[j]].off = (int16_t) (n - jumps[j] - 1);
  memcpy (out, block, n * sizeof *block);
  return n;
}

static int
bpf_call (int cmd, union bpf_attr *attr)
{
  return (int) syscall (SYS_bpf, cmd, attr, sizeof *attr);
}

int
rf_cgroup_bpf_devices (const char *dir, const rf_device_rule_t *rules, size_t n, rf_error_t *err)
{
  cleanup_free struct bpf_insn *prog = xzalloc ((8 * n + 8) * sizeof *prog);
  cleanup_close int cg_fd = -1;
  cleanup_close int prog_fd = -1;
  uint32_t old_ids[64];
  uint32_t old_count = 64;
  union bpf_attr attr;
  char log[4096] = "";
  size_t len = 0;

  prog[len++] = LDX_W (BPF_REG_2, BPF_REG_1, 0);
  prog[len++] = ALU32_IMM (BPF_AND, BPF_REG_2, 0xffff);
  prog[len++] = LDX_W (BPF_REG_3, BPF_REG_1, 0);
  prog[len++] = ALU32_IMM (BPF_RSH, BPF_REG_3, 16);
  prog[len++] = LDX_W (BPF_REG_4, BPF_REG_1, 4);
  prog[len++] = LDX_W (BPF_REG_5, BPF_REG_1, 8);
  for (size_t i = n; i-- > 0;)
    len += emit_rule (prog + len, &rules[i]);
  prog[len++] = MOV64_IMM (BPF_REG_0, 0);
  prog[len++] = EXIT_INSN ();

  memset (&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t) (uintptr_t) prog;
  attr.insn_cnt = (uint32_t) len;
  attr.license = (uint64_t) (uintptr_t) "GPL";
  prog_fd = bpf_call (BPF_PROG_LOAD, &attr);
  if (prog_fd < 0)
    {
      /* Again with the verifier's log, to say why.  (Not the first time:
         a log that does not fit in the buffer fails the load, ENOSPC.) */
      int saved = errno;
      attr.log_buf = (uint64_t) (uintptr_t) log;
      attr.log_size = sizeof log;
      attr.log_level = 1;
      prog_fd = bpf_call (BPF_PROG_LOAD, &attr);
      if (prog_fd < 0)
        {
          errno = saved;
          return rf_error_sys (err, "linux.resources.devices: load the device program (%.200s)", log);
        }
    }

  cg_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg_fd < 0)
    return rf_error_sys (err, "linux.resources.devices: open `%s`", dir);

  memset (&attr, 0, sizeof attr);
  attr.query.target_fd = cg_fd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t) (uintptr_t) old_ids;
  attr.query.prog_cnt = old_count;
  if (bpf_call (BPF_PROG_QUERY, &attr) < 0)
    old_count = 0;
  else
    old_count = attr.query.prog_cnt;

  /* With ALLOW_MULTI every attached program must allow: attaching the new
     one before removing the old never lets more through. */
  memset (&attr, 0, sizeof attr);
  attr.target_fd = cg_fd;
  attr.attach_bpf_fd = prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf_call (BPF_PROG_ATTACH, &attr) < 0)
    return rf_error_sys (err, "linux.resources.devices: attach the device program to `%s`", dir);

  for (uint32_t i = 0; i < old_count && i < 64; i++)
    {
      int old_fd;
      memset (&attr, 0, sizeof attr);
      attr.prog_id = old_ids[i];
      old_fd = bpf_call (BPF_PROG_GET_FD_BY_ID, &attr);
      if (old_fd < 0)
        continue;
      memset (&attr, 0, sizeof attr);
      attr.target_fd = cg_fd;
      attr.attach_bpf_fd = old_fd;
      attr.attach_type = BPF_CGROUP_DEVICE;
      bpf_call (BPF_PROG_DETACH, &attr);
      close (old_fd);
    }
  return 0;
}
