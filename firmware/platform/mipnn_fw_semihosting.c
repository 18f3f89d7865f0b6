/* Console output and exit through semihosting, shared by the targets that run under QEMU
   with -semihosting (Cortex-M and RV32: the operations and argument blocks are the same);
   each target's platform file supplies the trap itself as mipnn_fw_semihost(). */

#include <stdint.h>

#include "mipnn_fw_platform.h"

#define SYS_OPEN 0x01
#define SYS_WRITE 0x05
#define SYS_EXIT_EXTENDED 0x20 /* plain SYS_EXIT cannot pass a code on 32-bit targets */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define OPEN_MODE_W 4u

int32_t mipnn_fw_semihost(int32_t op, const void *arg);

static int32_t console = -1;

void mipnn_fw_init(void)
{
    static const char name[] = ":tt";
    uint32_t block[3];
    block[0] = (uint32_t)(uintptr_t)name;
    block[1] = OPEN_MODE_W;
    block[2] = sizeof name - 1u;
    console = mipnn_fw_semihost(SYS_OPEN, block);
}

void mipnn_fw_write(const char *buf, unsigned len)
{
    uint32_t block[3];
    block[0] = (uint32_t)console;
    block[1] = (uint32_t)(uintptr_t)buf;
    block[2] = len;
    (void)mipnn_fw_semihost(SYS_WRITE, block);
}

void mipnn_fw_exit(int code)
{
    uint32_t block[2];
    block[0] = ADP_STOPPED_APPLICATION_EXIT;
    block[1] = (uint32_t)code;
    for (;;) {
        (void)mipnn_fw_semihost(SYS_EXIT_EXTENDED, block);
    }
}
