/* RISC-V (rv32, QEMU virt with -bios none) platform without libc: entry point, startup
   (.data copy, .bss zeroing, stack painting), a trap handler that exits with status 127,
   and the RISC-V semihosting trap for output/exit (EMBEDDED.md); stack measurement is
   in mipnn_fw_stack32.c.

   Build with -ffreestanding -fno-tree-loop-distribute-patterns -nostdlib, so GCC does
   not turn the startup loops into memcpy/memset calls that nothing provides. */
#include <stdint.h>

#include "mipnn_fw_platform.h"


#define EXIT_FAULT 127
#define EXIT_BAD_STARTUP 126

/* From the linker script (platform/riscv32.ld). */
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[];

int main(void);
void mipnn_fw_paint_stack(void); /* mipnn_fw_stack32.c */
void mipnn_fw_start(void) __attribute__((naked, section(".text.start")));
void mipnn_fw_reset(void) __attribute__((noreturn));
void mipnn_fw_trap(void) __attribute__((naked, aligned(4)));

static volatile uint32_t startup_data_check = 0x4D49504Eu;
static volatile uint32_t startup_bss_check;

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

void mipnn_fw_reset(void)
{
    uint32_t *src = _sidata;
    uint32_t *dst = _sdata;
    while (dst < _edata) {
        *dst++ = *src++;
    }
    for (dst = _sbss; dst < _ebss; ++dst) {
        *dst = 0u;
    }
    if (startup_data_check != 0x4D49504Eu || startup_bss_check != 0u) {
        mipnn_fw_exit(EXIT_BAD_STARTUP);
    }
    mipnn_fw_paint_stack();
    mipnn_fw_exit(main());
}
