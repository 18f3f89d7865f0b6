/* AVR platform (ATmega328P under simavr, or a real board): output on USART0, exit status
   in GPIOR1, then cli + sleep, which the simavr runner (tools/mipnn_avr_run.c) takes as
   the end of the program (EMBEDDED.md).

   The stack grows down from RAMEND towards the end of .bss (_end). It is painted in .init1,
   before .data and .bss are initialised, so the peak since reset can be read back;
   mipnn_fw_call repaints below its own frame to measure one call. */
#include <stdint.h>

#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>

#include "mipnn_fw_platform.h"

#define EXIT_FAULT 127
#define EXIT_STACK_OVERFLOW 125
#define STACK_PAINT 0xC5u
#define BAUD_DIVISOR 16u /* 115200 baud at 16 MHz with U2X0 */

extern uint8_t _end;     /* end of .bss (linker script) */
extern uint8_t __stack;  /* RAMEND */

/* Runs in .init1, before the C runtime sets anything up (no stack, plain fall-through
   into the next .init section; only r24, r25, r30, r31): fill [_end, RAMEND] with the
   paint byte 0xC5 (STACK_PAINT). */
__asm__(
    ".section .init1,\"ax\",@progbits\n"
    "    ldi r30, lo8(_end)\n"
    "    ldi r31, hi8(_end)\n"
    "    ldi r24, 0xC5\n"
    "    ldi r25, hi8(__stack)\n"
    "    rjmp 2f\n"
    "1:  st Z+, r24\n"
    "2:  cpi r30, lo8(__stack)\n"
    "    cpc r31, r25\n"
    "    brlo 1b\n"
    "    breq 1b\n"
    "    .text\n");

static uint16_t run_peak;

void mipnn_fw_init(void)
{
    UBRR0H = (uint8_t)(BAUD_DIVISOR >> 8);
    UBRR0L = (uint8_t)BAUD_DIVISOR;
    UCSR0A = (uint8_t)(1u << U2X0);
    UCSR0B = (uint8_t)(1u << TXEN0);
    UCSR0C = (uint8_t)((1u << UCSZ01) | (1u << UCSZ00));
}

void mipnn_fw_write(const char *buf, unsigned len)
{
    unsigned i;
    for (i = 0u; i < len; ++i) {
        while ((UCSR0A & (1u << UDRE0)) == 0u) {
        }
        UDR0 = (uint8_t)buf[i];
    }
}

void mipnn_fw_exit(int code)
{
    /* Let the last byte leave the USART, then stop: simavr ends the run when the core
       sleeps with interrupts disabled. */
    while ((UCSR0A & (1u << UDRE0)) == 0u) {
    }
    GPIOR1 = (uint8_t)code;
    cli();
    for (;;) {
        sleep_enable();
        sleep_cpu();
    }
}

/* The lowest stack byte that no longer holds the paint; exits if _end was overwritten. */
static const uint8_t *lowest_used(void)
{
    static const char overflow[] = "~~~MIPNN ERROR stack overflow~~~\n";
    const uint8_t *p = &_end;
    if (*p != STACK_PAINT) {
        mipnn_fw_write(overflow, sizeof overflow - 1u);
        mipnn_fw_exit(EXIT_STACK_OVERFLOW);
    }
    while (p <= &__stack && *p == STACK_PAINT) {
        ++p;
    }
    return p;
}

static void note_peak(void)
{
    uint16_t used = (uint16_t)((uintptr_t)&__stack - (uintptr_t)lowest_used() + 1u);
    if (used > run_peak) {
        run_peak = used;
    }
}

/* SP points at the next free byte; [_end, SP] is free. The call pushes its return
   address there, so it is counted. */
int mipnn_fw_call(mipnn_fw_predict_fn fn, const uint8_t *x, int32_t *scores, int32_t *stack)
{
    uint8_t *p;
    uint16_t sp;
    uintptr_t lowest;
    int result;
    note_peak();
    sp = SP;
    for (p = &_end; (uintptr_t)p <= sp; ++p) {
        *p = STACK_PAINT;
    }
    result = fn(x, scores);
    /* Bytes of this frame may still hold paint from reset: never count below zero. */
    lowest = (uintptr_t)lowest_used();
    *stack = lowest <= sp ? (int32_t)(sp - lowest + 1u) : 0;
    return result;
}

int32_t mipnn_fw_stack_used(void)
{
    note_peak();
    return (int32_t)run_peak;
}

/* An interrupt without a handler jumps to reset by default; make it a distinctive exit. */
ISR(BADISR_vect)
{
    mipnn_fw_exit(EXIT_FAULT);
}
