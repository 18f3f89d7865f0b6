/* RISC-V (rv32, QEMU virt with -bios none) platform without libc: the entry point (stack
   pointer, trap vector, then mipnn_fw_reset, the C start-up shared with Cortex-M in
   mipnn_fw_bare32.c), a trap handler that exits with status 127, and the RISC-V
   semihosting trap for output/exit (EMBEDDED.md). */
#include <stdint.h>

#include "mipnn_fw_platform.h"


void mipnn_fw_start(void) __attribute__((naked, section(".text.start")));
void mipnn_fw_reset(void) __attribute__((noreturn)); /* the C start-up, mipnn_fw_bare32.c */
void mipnn_fw_trap(void) __attribute__((naked, aligned(4)));

/* The first instruction at the entry point: set the stack pointer and the trap vector,
   then continue in C. */
void mipnn_fw_start(void)
{
    __asm__ volatile(
        "la sp, _estack\n"
        "la t0, mipnn_fw_trap\n"
        "csrw mtvec, t0\n"
        "j mipnn_fw_reset\n");
}

/* Any exception (illegal instruction, access fault, misaligned access...) ends the run. */
void mipnn_fw_trap(void)
{
    __asm__ volatile(
        "la sp, _estack\n"
        "li a0, 127\n" /* EXIT_FAULT */
        "j mipnn_fw_exit\n");
}

/* The semihosting trap: slli/ebreak/srai, uncompressed and in one place so the debugger
   (QEMU) recognises it. */
int32_t mipnn_fw_semihost(int32_t op, const void *arg);

/* The semihosting trap (the shared calls are in mipnn_fw_semihosting.c). */
int32_t mipnn_fw_semihost(int32_t op, const void *arg)
{
    register int32_t a0 __asm__("a0") = op;
    register const void *a1 __asm__("a1") = arg;
    __asm__ volatile(
        ".option push\n"
        ".option norvc\n"
        ".balign 16\n"
        "slli zero, zero, 0x1f\n"
        "ebreak\n"
        "srai zero, zero, 7\n"
        ".option pop\n"
        : "+r"(a0)
        : "r"(a1)
        : "memory");
    return a0;
}
