/* What a target's platform file provides to the harness: output, exit, stack use. */
#ifndef MIPNN_FW_PLATFORM_H
#define MIPNN_FW_PLATFORM_H

#include <stdint.h>

#if defined(__GNUC__)
#define MIPNN_FW_NORETURN __attribute__((noreturn))
#else
#define MIPNN_FW_NORETURN
#endif

/* The model's entry point: int NAME_predict(const uint8_t x[], int32_t scores[]). */
typedef int (*mipnn_fw_predict_fn)(const uint8_t *x, int32_t *scores);

/* Prepare the output channel (open the semihosting console, set up the UART...). */
void mipnn_fw_init(void);
/* Write len bytes of text; the harness calls it with whole lines. */
void mipnn_fw_write(const char *buf, unsigned len);
/* Call fn(x, scores) and return its result. A platform that measures stack use paints
   the free stack below its own frame first and stores in *stack the peak number of bytes
   the call used (its return address included where the call instruction pushes one);
   other platforms store -1. */
int mipnn_fw_call(mipnn_fw_predict_fn fn, const uint8_t *x, int32_t *scores, int32_t *stack);
/* Peak stack use in bytes since reset (the platform paints its stack at reset), or -1 when
   the platform does not measure it. A platform that sees its stack overflowed reports it
   and exits (status 125) instead of returning. */
int32_t mipnn_fw_stack_used(void);
/* Stop the program (or the emulator) with this exit status. */
MIPNN_FW_NORETURN void mipnn_fw_exit(int code);

#endif /* MIPNN_FW_PLATFORM_H */
