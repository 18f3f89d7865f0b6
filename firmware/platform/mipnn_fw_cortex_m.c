/* Cortex-M platform without libc, for QEMU (mps2-an385/an386, microbit):
   vector table, reset handler (.data copy, .bss zeroing, stack painting), fault handlers
   that exit with status 127, and the ARM semihosting trap for output/exit (EMBEDDED.md);
   stack measurement is in mipnn_fw_stack32.c.

   Build with -ffreestanding -fno-tree-loop-distribute-patterns -nostdlib, so GCC
   does not turn the startup loops into memcpy/memset calls that nothing provides. */
#include <stdint.h>

#include "mipnn_fw_platform.h"


#define EXIT_FAULT 127
#define EXIT_BAD_STARTUP 126

/* From the linker script (platform/cortex-m.ld). */
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];

int main(void);
void mipnn_fw_paint_stack(void); /* mipnn_fw_stack32.c */
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

void mipnn_fw_fault(void)
{
    mipnn_fw_exit(EXIT_FAULT);
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
