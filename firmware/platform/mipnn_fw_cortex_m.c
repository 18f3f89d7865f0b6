/* Cortex-M platform without libc, for QEMU (mps2-an385/an386, microbit):
   the vector table (reset: mipnn_fw_reset, the C start-up shared with RV32 in
   mipnn_fw_bare32.c), fault handlers that exit with status 127, and the ARM semihosting
   trap for output/exit (EMBEDDED.md). */
#include <stdint.h>

#include "mipnn_fw_platform.h"


#define EXIT_FAULT 127

/* From the linker script (platform/cortex-m.ld). */
extern uint32_t _estack[];

void mipnn_fw_reset(void); /* the C start-up, in mipnn_fw_bare32.c */
void mipnn_fw_fault(void);

#if defined(__ARM_FP)
/* Built with an FPU (FLOAT=hard on the Cortex-M4): grant full access to CP10 and CP11 in
   CPACR before any floating-point instruction runs, then start as usual. */
void mipnn_fw_fpu_reset(void);
void mipnn_fw_fpu_reset(void)
{
    *(volatile uint32_t *)0xE000ED88u |= (0xFu << 20);
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    mipnn_fw_reset();
}
#define MIPNN_FW_RESET mipnn_fw_fpu_reset
#else
#define MIPNN_FW_RESET mipnn_fw_reset
#endif

__attribute__((section(".isr_vector"), used))
static const uintptr_t vector_table[16] = {
    (uintptr_t)_estack,           /* initial stack pointer */
    (uintptr_t)&MIPNN_FW_RESET,   /* reset */
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
