/* alloc [--huge] MB: allocate MB megabytes and touch every page, then say
 * "allocated MB MB".  With --huge the memory is 2 MB huge pages
 * (MAP_HUGETLB).  Used inside test containers to run into memory and
 * hugetlb limits: past a limit the kernel kills it (OOM: SIGKILL, hugetlb:
 * SIGBUS). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  int huge = argc > 1 && strcmp (argv[1], "--huge") == 0;
  const char *arg = argv[1 + huge];
  size_t page = huge ? 2u << 20 : (size_t) sysconf (_SC_PAGESIZE), size;
  char *end;
  long mb;
  char *mem;

  if (argc != 2 + huge || (mb = strtol (arg, &end, 10)) <= 0 || *end)
    {
      fprintf (stderr, "usage: alloc [--huge] MB\n");
      return 2;
    }
  size = (size_t) mb << 20;
  mem = mmap (NULL, size, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | (huge ? MAP_HUGETLB : 0), -1, 0);
  if (mem == MAP_FAILED)
    {
      perror ("alloc: mmap");
      return 1;
    }
  for (size_t off = 0; off < size; off += page)
    mem[off] = 1;
  printf ("allocated %ld MB\n", mb);
  return 0;
}
