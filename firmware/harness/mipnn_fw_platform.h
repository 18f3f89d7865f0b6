/* What a target's platform file provides to the harness: output and exit. */
#ifndef MIPNN_FW_PLATFORM_H
#define MIPNN_FW_PLATFORM_H

#include <stdint.h>

#if defined(__GNUC__)
#define MIPNN_FW_NORETURN __attribute__((noreturn))
#else
#define MIPNN_FW_NORETURN
#endif

/* Prepare the output channel (open the semihosting console, set up the UART...). */
void mipnn_fw_init(void);
/* Write len bytes of text; the harness calls it with whole lines. */
void mipnn_fw_write(const char *buf, unsigned len);
/* Peak stack use in bytes since reset (the platform paints its stack at reset), or -1 when
   the platform does not measure it. A platform that sees its stack overflowed reports it
   and exits (status 125) instead of returning. */
int32_t mipnn_fw_stack_used(void);
/* Stop the program (or the emulator) with this exit status. */
MIPNN_FW_NORETURN void mipnn_fw_exit(int code);

#endif /* MIPNN_FW_PLATFORM_H */
