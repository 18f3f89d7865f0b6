/* Golden-vector harness (target independent, no libc).

   Runs every vector of the generated mipnn_fw_vectors.h through the model and prints:

       ~~~MIPNN BEGIN vectors=<V> inputs=<n> classes=<K>~~~
       vector <v> class <c> scores <s0> <s1> ... <sK-1>      (one line per vector)
       ~~~MIPNN STACK used=<bytes> call=<bytes>~~~           (fields the target measures)
       ~~~MIPNN DONE~~~

   then exits with status 0. used= is the peak stack of the whole run, call= the peak
   stack of one inference (the largest over all vectors). A crash, a hang or an early exit leaves the DONE line out,
   so it can never look like a pass. The host compares the lines with the Python
   reference, bit for bit. Numbers are printed here, without libc, so every target
   prints through the same code. */
#include <stdint.h>

#include "mipnn_fw_platform.h"
#include "mipnn_fw_vectors.h"

#define MIPNN_FW_LINE_SIZE 96u

static char line[MIPNN_FW_LINE_SIZE];
static unsigned line_len;
static uint8_t input[MIPNN_FW_N_INPUTS];
static int32_t scores[MIPNN_FW_N_CLASSES];

static void flush(void)
{
    if (line_len > 0u) {
        mipnn_fw_write(line, line_len);
        line_len = 0u;
    }
}

static void put_char(char c)
{
    if (line_len == MIPNN_FW_LINE_SIZE) {
        flush();
    }
    line[line_len++] = c;
    if (c == '\n') {
        flush();
    }
}

static void put_str(const char *s)
{
    while (*s != '\0') {
        put_char(*s++);
    }
}

static void put_int(int32_t v)
{
    char digits[10];
    unsigned n = 0u;
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    if (v < 0) {
        put_char('-');
    }
    do {
        digits[n++] = (char)('0' + (int)(u % 10u));
        u /= 10u;
    } while (u != 0u);
    while (n > 0u) {
        put_char(digits[--n]);
    }
}

int main(void)
{
    uint32_t v;
    uint_fast16_t i;
    uint_fast16_t k;
    int cls;
    int32_t stack;
    int32_t call_stack;
    int32_t call_peak = -1;

    mipnn_fw_init();
    put_str("~~~MIPNN BEGIN vectors=");
    put_int(MIPNN_FW_N_VECTORS);
    put_str(" inputs=");
    put_int(MIPNN_FW_N_INPUTS);
    put_str(" classes=");
    put_int(MIPNN_FW_N_CLASSES);
    put_str("~~~\n");
    for (v = 0u; v < MIPNN_FW_N_VECTORS; ++v) {
        for (i = 0u; i < MIPNN_FW_N_INPUTS; ++i) {
            input[i] = MIPNN_FW_RD_U8(&mipnn_fw_vectors[v][i]);
        }
        cls = mipnn_fw_call(MIPNN_FW_PREDICT, input, scores, &call_stack);
        if (call_stack > call_peak) {
            call_peak = call_stack;
        }
        if (MIPNN_FW_PREDICT(input, 0) != cls) {
            put_str("~~~MIPNN ERROR the class differs when scores is NULL~~~\n");
            mipnn_fw_exit(3);
        }
        put_str("vector ");
        put_int((int32_t)v);
        put_str(" class ");
        put_int((int32_t)cls);
        put_str(" scores");
        for (k = 0u; k < MIPNN_FW_N_CLASSES; ++k) {
            put_char(' ');
            put_int(scores[k]);
        }
        put_char('\n');
    }
    stack = mipnn_fw_stack_used();
    if (stack >= 0 || call_peak >= 0) {
        put_str("~~~MIPNN STACK");
        if (stack >= 0) {
            put_str(" used=");
            put_int(stack);
        }
        if (call_peak >= 0) {
            put_str(" call=");
            put_int(call_peak);
        }
        put_str("~~~\n");
    }
    put_str("~~~MIPNN DONE~~~\n");
    mipnn_fw_exit(0);
}
