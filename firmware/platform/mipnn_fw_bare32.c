/* What the 32-bit bare-metal targets (Cortex-M, RV32) share: the C start-up
   (mipnn_fw_reset: .data copy, .bss zeroing, a check of both, stack painting, main) and
   the stack measurement. The platform file provides the entry (vector table or entry
   point) that jumps to mipnn_fw_reset, the fault handlers and the semihosting trap.
   The stack grows down from _estack to _sstack (linker script); free words hold a paint
   value, so the lowest word that no longer holds it is the deepest the stack went.

   Build with -ffreestanding -fno-tree-loop-distribute-patterns -nostdlib (the paint
   loops must not become memset calls). */
#include <stdint.h>

#include "mipnn_fw_platform.h"

#define EXIT_BAD_STARTUP 126
#define EXIT_STACK_OVERFLOW 125
#define STACK_PAINT 0x5AC4C0DEu
#define PAINT_MARGIN_WORDS 16u /* left unpainted below the start-up frame (64 bytes) */

#if defined(__arm__)
#define MIPNN_FW_READ_SP(v) __asm__ volatile("mov %0, sp" : "=r"(v))
#elif defined(__riscv)
#define MIPNN_FW_READ_SP(v) __asm__ volatile("mv %0, sp" : "=r"(v))
#else
#error "mipnn_fw_stack32.c is for the Cortex-M and RISC-V targets"
#endif

/* From the linker script (platform/cortex-m.ld, platform/riscv32.ld). */
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _sstack[], _estack[];

int main(void);
void mipnn_fw_reset(void) MIPNN_FW_NORETURN;

/* Checked after start-up: a broken .data copy or .bss zeroing fails loudly. */
static volatile uint32_t startup_data_check = 0x4D49504Eu;
static volatile uint32_t startup_bss_check;

static uint32_t run_peak; /* peak stack bytes seen before the last repaint */

/* The lowest stack word that no longer holds the paint. If the bottom word changed, the
   stack overflowed (on QEMU's mps2 boards the memory below RAM ignores writes, so an
   overflow does not fault there): report it and exit. */
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

/* The C start-up, entered with the stack pointer at _estack. */
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
    /* Paint the free stack below this frame, keeping a margin of 64 bytes. */
    MIPNN_FW_READ_SP(sp);
    for (dst = _sstack; (uintptr_t)(dst + PAINT_MARGIN_WORDS) < sp; ++dst) {
        *dst = STACK_PAINT;
    }
    mipnn_fw_exit(main());
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
    MIPNN_FW_READ_SP(sp);
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
