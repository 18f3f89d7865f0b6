/* RISC-V (rv32, QEMU virt with -bios none) platform without libc: entry point, startup
   (.data copy, .bss zeroing, stack painting), a trap handler that exits with status 127,
   and output/exit through RISC-V semihosting (EMBEDDED.md).

   Build with -ffreestanding -fno-tree-loop-distribute-patterns -nostdlib, so GCC does
   not turn the startup loops into memcpy/memset calls that nothing provides. */
#include <stdint.h>

#include "mipnn_fw_platform.h"


#define EXIT_FAULT 127
#define EXIT_BAD_STARTUP 126
#define EXIT_STACK_OVERFLOW 125
#define STACK_PAINT 0x5AC4C0DEu

/* From the linker script (platform/riscv32.ld). */
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _sstack[], _estack[];

int main(void);
void mipnn_fw_start(void) __attribute__((naked, section(".text.start")));
void mipnn_fw_reset(void) __attribute__((noreturn));
void mipnn_fw_trap(void) __attribute__((naked, aligned(4)));

static volatile uint32_t startup_data_check = 0x4D49504Eu;
static volatile uint32_t startup_bss_check;
static uint32_t run_peak;

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

/* The lowest stack word that no longer holds the paint; exits if the bottom word changed
   (the stack overflowed). */
static const uint32_t *lowest_used(void)
{
    static const char overflow[] = "~~~MIPNN ERROR stack overflow~~~\n";
    const uint32_t *p = _sstack;
    if (*p != STACK_PAINT) {
        mipnn_fw_write(overflow, sizeof overflow - 1u);
        mipnn_fw_exit(EXIT_STACK_OVERFLOW);
    }
    while (p < _estack && *p == STACK_PAINT) {
        ++p;
    }
    return p;
}

static void note_peak(void)
{
    uint32_t used = (uint32_t)((uintptr_t)_estack - (uintptr_t)lowest_used());
    if (used > run_peak) {
        run_peak = used;
    }
}

/* Repaint the free stack below this frame, call fn, see how deep it went (the frame is
   fixed after the prologue and the arguments travel in registers, so sp is the stack
   pointer at the call). */
int mipnn_fw_call(mipnn_fw_predict_fn fn, const uint8_t *x, int32_t *scores, int32_t *stack)
{
    uintptr_t sp;
    uintptr_t lowest;
    uint32_t *p;
    int result;
    note_peak();
    __asm__ volatile("mv %0, sp" : "=r"(sp));
    for (p = _sstack; (uintptr_t)p < sp; ++p) {
        *p = STACK_PAINT;
    }
    result = fn(x, scores);
    /* Words of this frame may still hold paint from reset: never count below zero. */
    lowest = (uintptr_t)lowest_used();
    *stack = lowest < sp ? (int32_t)(sp - lowest) : 0;
    return result;
}

int32_t mipnn_fw_stack_used(void)
{
    note_peak();
    return (int32_t)run_peak;
}

void mipnn_fw_reset(void)
{
    uint32_t *src = _sidata;
    uint32_t *dst = _sdata;
    uintptr_t sp;
    while (dst < _edata) {
        *dst++ = *src++;
    }
    for (dst = _sbss; dst < _ebss; ++dst) {
        *dst = 0u;
    }
    if (startup_data_check != 0x4D49504Eu || startup_bss_check != 0u) {
        mipnn_fw_exit(EXIT_BAD_STARTUP);
    }
    /* Paint the stack below the current frame (64 bytes of margin). */
    __asm__ volatile("mv %0, sp" : "=r"(sp));
    for (dst = _sstack; (uintptr_t)(dst + 16) < sp; ++dst) {
        *dst = STACK_PAINT;
    }
    mipnn_fw_exit(main());
}
