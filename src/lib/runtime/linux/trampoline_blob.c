/* runf-trampoline's bytes (src/trampoline), built first and linked in:
   runf writes them into a sealed memfd for each container it starts. */
#include "runtime/selfexe.h"

#ifndef RF_TRAMPOLINE_PATH
#error "RF_TRAMPOLINE_PATH: the built runf-trampoline"
#endif

__asm__ (".section .rodata\n"
         ".global rf_trampoline_bytes\n"
         ".type rf_trampoline_bytes, @object\n"
         ".balign 16\n"
         "rf_trampoline_bytes:\n"
         ".incbin \"" RF_TRAMPOLINE_PATH "\"\n"
         ".global rf_trampoline_end\n"
         "rf_trampoline_end:\n"
         ".previous\n");
