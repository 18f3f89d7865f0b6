/* Golden-vector harness (target independent, no libc).

   Runs every vector of the generated mipnn_fw_vectors.h through the model and prints:

       ~~~MIPNN BEGIN vectors=<V> inputs=<n> classes=<K>~~~
       vector <v> class <c> scores <s0> <s1> ... <sK-1>      (one line per vector)
       raw <v> class <c> scores <s0> ... <sK-1> x <hex>      (one line per raw vector)
       ~~~MIPNN STACK used=<bytes> call=<bytes> raw=<bytes>~~~   (fields the target measures)
       ~~~MIPNN DONE~~~

   then exits with status 0. The raw lines (a version-2 model, when the vectors header
   defines MIPNN_FW_N_RAW_VECTORS) give NAME_predict_raw's class and scores of each raw
   vector and, in hex, the inputs NAME_encode wrote. used= is the peak stack of the whole
   run, call= the peak stack of one inference (the largest over all vectors), raw= that
   of one NAME_predict_raw (through a small wrapper). A crash, a hang or an early exit leaves the DONE line out,
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

#if defined(MIPNN_FW_N_RAW_VECTORS)
static int32_t raw[MIPNN_FW_N_RAW];

static void put_hex(uint8_t b)
{
    static const char digits[] = "0123456789abcdef";
    put_char(digits[b >> 4]);
    put_char(digits[b & 15u]);
}

/* NAME_predict_raw of the current raw vector, with the signature mipnn_fw_call measures
   (external, so that the driver finds it as a caller when it counts instructions). */
int mipnn_fw_raw_predict(const uint8_t *x, int32_t *s);
int mipnn_fw_raw_predict(const uint8_t *x, int32_t *s)
{
    (void)x;
    return MIPNN_FW_PREDICT_RAW(raw, s);
}
#endif

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
    int32_t raw_peak = -1;

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
#if defined(MIPNN_FW_N_RAW_VECTORS)
    for (v = 0u; v < MIPNN_FW_N_RAW_VECTORS; ++v) {
        for (i = 0u; i < MIPNN_FW_N_RAW; ++i) {
            raw[i] = MIPNN_FW_RD_I32(&mipnn_fw_raw_vectors[v][i]);
        }
        cls = mipnn_fw_call(mipnn_fw_raw_predict, input, scores, &call_stack);
        if (call_stack > raw_peak) {
            raw_peak = call_stack;
        }
        if (MIPNN_FW_PREDICT_RAW(raw, 0) != cls) {
            put_str("~~~MIPNN ERROR the class differs when scores is NULL~~~\n");
            mipnn_fw_exit(3);
        }
        MIPNN_FW_ENCODE(raw, input);
        put_str("raw ");
        put_int((int32_t)v);
        put_str(" class ");
        put_int((int32_t)cls);
        put_str(" scores");
        for (k = 0u; k < MIPNN_FW_N_CLASSES; ++k) {
            put_char(' ');
            put_int(scores[k]);
        }
        put_str(" x ");
        for (i = 0u; i < MIPNN_FW_N_INPUTS; ++i) {
            put_hex(input[i]);
        }
        put_char('\n');
    }
#endif
    stack = mipnn_fw_stack_used();
    if (stack >= 0 || call_peak >= 0 || raw_peak >= 0) {
        put_str("~~~MIPNN STACK");
        if (stack >= 0) {
            put_str(" used=");
            put_int(stack);
        }
        if (call_peak >= 0) {
            put_str(" call=");
            put_int(call_peak);
        }
        if (raw_peak >= 0) {
            put_str(" raw=");
            put_int(raw_peak);
        }
        put_str("~~~\n");
    }
    put_str("~~~MIPNN DONE~~~\n");
    mipnn_fw_exit(0);
}
