/* Cortex-M platform without libc, for QEMU (mps2-an385/an386, microbit):
   vector table, reset handler (.data copy, .bss zeroing), fault handlers that exit
   with status 127, and output/exit through ARM semihosting (EMBEDDED.md).

   Build with -ffreestanding -fno-tree-loop-distribute-patterns -nostdlib, so GCC
   does not turn the startup loops into memcpy/memset calls that nothing provides. */
#include <stdint.h>

#include "mipnn_fw_platform.h"


#define EXIT_FAULT 127
#define EXIT_BAD_STARTUP 126
#define EXIT_STACK_OVERFLOW 125
#define STACK_PAINT 0x5AC4C0DEu

/* From the linker script (platform/cortex-m.ld). */
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _sstack[], _estack[];

int main(void);
void mipnn_fw_reset(void);
void mipnn_fw_fault(void);

/* Checked after startup: a broken .data copy or .bss zeroing fails loudly. */
static volatile uint32_t startup_data_check = 0x4D49504Eu;
static volatile uint32_t startup_bss_check;

__attribute__((section(".isr_vector"), used))
static const uintptr_t vector_table[16] = {
    (uintptr_t)_estack,           /* initial stack pointer */
    (uintptr_t)&mipnn_fw_reset,   /* reset */
    (uintptr_t)&mipnn_fw_fault,   /* NMI */
    (uintptr_t)&mipnn_fw_fault,   /* HardFault */
    (uintptr_t)&mipnn_fw_fault,   /* MemManage */
    (uintptr_t)&mipnn_fw_fault,   /* BusFault */
    (uintptr_t)&mipnn_fw_fault,   /* UsageFault */
    0u, 0u, 0u, 0u,               /* reserved */
    (uintptr_t)&mipnn_fw_fault,   /* SVCall */
    (uintptr_t)&mipnn_fw_fault,   /* DebugMonitor */
    0u,                           /* reserved */
    (uintptr_t)&mipnn_fw_fault,   /* PendSV */
    (uintptr_t)&mipnn_fw_fault,   /* SysTick */
};

int32_t mipnn_fw_semihost(int32_t op, const void *arg);

/* The semihosting trap (the shared calls are in mipnn_fw_semihosting.c). */
int32_t mipnn_fw_semihost(int32_t op, const void *arg)
{
    register int32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static uint32_t run_peak; /* peak stack bytes seen before the last repaint */

/* The lowest stack word that no longer holds the paint (the stack grows down from
   _estack). If the bottom word changed, the stack overflowed (on QEMU's mps2 boards the
   memory below RAM ignores writes, so an overflow does not fault there): report it and
   exit. */
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

/* Repaint the free stack below this frame, call fn, and see how deep it went. Nothing is
   pushed between reading sp and the call (the frame is fixed after the prologue and the
   arguments travel in registers), so sp is the stack pointer at the call. */
int mipnn_fw_call(mipnn_fw_predict_fn fn, const uint8_t *x, int32_t *scores, int32_t *stack)
{
    uintptr_t sp;
    uintptr_t lowest;
    uint32_t *p;
    int result;
    note_peak();
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (p = _sstack; (uintptr_t)p < sp; ++p) {
        *p = STACK_PAINT;
    }
    result = fn(x, scores);
    /* Words of this frame may still hold paint from reset: never count below zero. */
    lowest = (uintptr_t)lowest_used();
    *stack = lowest < sp ? (int32_t)(sp - lowest) : 0;
    return result;
}

/* The peak since reset: the largest seen before any repaint, or now. */
int32_t mipnn_fw_stack_used(void)
{
    note_peak();
    return (int32_t)run_peak;
}

void mipnn_fw_fault(void)
{
    mipnn_fw_exit(EXIT_FAULT);
}

void mipnn_fw_reset(void)
{
    uint32_t *src = _sidata;
    uint32_t *dst = _sdata;
    uint32_t *sp;
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
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (dst = _sstack; dst < sp - 16; ++dst) {
        *dst = STACK_PAINT;
    }
    mipnn_fw_exit(main());
}
