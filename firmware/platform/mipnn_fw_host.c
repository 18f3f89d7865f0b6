/* Host platform: the harness is an ordinary program writing to stdout. */
#include <stdio.h>
#include <stdlib.h>

#include "mipnn_fw_platform.h"

void mipnn_fw_init(void)
{
}

void mipnn_fw_write(const char *buf, unsigned len)
{
    if (fwrite(buf, 1u, len, stdout) != len) {
        exit(4);
    }
}

int mipnn_fw_call(mipnn_fw_predict_fn fn, const uint8_t *x, int32_t *scores, int32_t *stack)
{
    *stack = -1;
    return fn(x, scores);
}

int32_t mipnn_fw_stack_used(void)
{
    return -1;
}

void mipnn_fw_exit(int code)
{
    if (fflush(stdout) != 0) {
        exit(4);
    }
    exit(code);
}
