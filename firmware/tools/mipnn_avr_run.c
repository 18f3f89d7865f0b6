/* mipnn_avr_run: run an AVR program in simavr (linked with libsimavr), cleanly.

   usage: mipnn_avr_run [--mcu NAME] [--freq HZ] [--input FILE] [--baud N] [--measure ADDR]
                        [--max-cycles N] [--lines N] [--exit-reg ADDR] IMAGE.elf|IMAGE.hex

   - Bytes the program sends on USART0 are streamed to stdout unchanged.
   - --input FILE ('-': stdin): bytes fed to USART0's receiver once the program enables it,
     one byte per frame time at --baud (default 115200, 10 bits a byte), as a wire would:
     simavr's receive FIFO holds 64 bytes and drops what arrives faster. A lower --baud
     than the program's paces the input without changing the program.
   - The run ends when the core sleeps with interrupts disabled (cli + sleep): the exit
     status is then the byte in the exit register (default GPIOR1, data address 0x4A).
     It also ends after --lines N newlines of output (status 0), or with status 124 after
     --max-cycles (a hang), or 127 if simavr reports a crash.
   - --measure ADDR (byte address of a function, e.g. from avr-nm): every call of it is
     timed from its first instruction to its return (ret included), in exact core cycles,
     and reported on stderr as "~~~MIPNN CALL cycles=<n>~~~". The total cycle count of the
     run is reported as "~~~MIPNN CYCLES total=<n>~~~".

   Built from source by firmware/Makefile with the host compiler (EMBEDDED.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avr_uart.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_hex.h"
#include "sim_irq.h"

#define STATUS_HANG 124
#define STATUS_CRASH 127
#define STATUS_USAGE 2

static unsigned long lines_seen;
static int uart_xoff;
static int uart_ready; /* the receiver was enabled (simavr raised XON) */

static void on_uart_output(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)param;
    putchar((int)(value & 0xFFu));
    if ((value & 0xFFu) == '\n') {
        ++lines_seen;
        fflush(stdout);
    }
}

static void on_uart_xon(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)value;
    (void)param;
    uart_xoff = 0;
    uart_ready = 1;
}

static void on_uart_xoff(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)value;
    (void)param;
    uart_xoff = 1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: mipnn_avr_run [--mcu NAME] [--freq HZ] [--input FILE] [--baud N]\n"
            "                     [--measure ADDR]\n"
            "                     [--max-cycles N] [--lines N] [--exit-reg ADDR] IMAGE\n");
    exit(STATUS_USAGE);
}

static unsigned long long number(const char *text)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 0);
    if (*text == '\0' || *end != '\0') {
        fprintf(stderr, "mipnn_avr_run: not a number: %s\n", text);
        exit(STATUS_USAGE);
    }
    return v;
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, got;
    if (f == NULL) {
        perror(path);
        exit(STATUS_USAGE);
    }
    do {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            buf = realloc(buf, cap);
            if (buf == NULL) {
                exit(STATUS_USAGE);
            }
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (f != stdin) {
        fclose(f);
    }
    *size = n;
    return buf;
}

static uint16_t read_sp(const avr_t *avr)
{
    return (uint16_t)(avr->data[R_SPL] | (avr->data[R_SPH] << 8));
}

int main(int argc, char **argv)
{
    const char *mcu = NULL, *input_path = NULL, *image = NULL;
    unsigned long long freq = 0, max_cycles = 20000000000ull, measure = 0, want_lines = 0;
    unsigned long long exit_reg = 0x4A; /* GPIOR1 on the ATmega328P */
    unsigned long long baud = 115200, byte_cycles;
    avr_cycle_count_t next_input = 0;
    int has_measure = 0;
    unsigned char *input = NULL;
    size_t input_size = 0, input_pos = 0;
    elf_firmware_t fw;
    avr_t *avr;
    avr_irq_t *rx;
    int i, state, in_call = 0;
    uint32_t return_pc = 0;
    uint16_t return_sp = 0;
    avr_cycle_count_t call_start = 0;

    for (i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--mcu") == 0 && i + 1 < argc) {
            mcu = argv[++i];
        } else if (strcmp(argv[i], "--freq") == 0 && i + 1 < argc) {
            freq = number(argv[++i]);
        } else if (strcmp(argv[i], "--input") == 0 && i + 1 < argc) {
            input_path = argv[++i];
        } else if (strcmp(argv[i], "--baud") == 0 && i + 1 < argc) {
            baud = number(argv[++i]);
        } else if (strcmp(argv[i], "--measure") == 0 && i + 1 < argc) {
            measure = number(argv[++i]);
            has_measure = 1;
        } else if (strcmp(argv[i], "--max-cycles") == 0 && i + 1 < argc) {
            max_cycles = number(argv[++i]);
        } else if (strcmp(argv[i], "--lines") == 0 && i + 1 < argc) {
            want_lines = number(argv[++i]);
        } else if (strcmp(argv[i], "--exit-reg") == 0 && i + 1 < argc) {
            exit_reg = number(argv[++i]);
        } else if (argv[i][0] == '-' || image != NULL) {
            usage();
        } else {
            image = argv[i];
        }
    }
    if (image == NULL) {
        usage();
    }
    memset(&fw, 0, sizeof fw);
    {
        size_t len = strlen(image);
        if (len > 4 && strcmp(image + len - 4, ".hex") == 0) {
            ihex_chunk_p chunks = NULL;
            int n = read_ihex_chunks(image, &chunks), c;
            if (n <= 0) {
                fprintf(stderr, "mipnn_avr_run: cannot read %s\n", image);
                return STATUS_USAGE;
            }
            for (c = 0; c < n; ++c) {
                if (chunks[c].baseaddr < 0x800000u) { /* flash, not EEPROM/fuses */
                    uint32_t end = chunks[c].baseaddr + chunks[c].size;
                    if (fw.flash == NULL) {
                        fw.flash = calloc(1, 256u * 1024u);
                        fw.flashbase = 0;
                    }
                    if (fw.flash == NULL || end > 256u * 1024u) {
                        fprintf(stderr, "mipnn_avr_run: %s: flash image too large\n", image);
                        return STATUS_USAGE;
                    }
                    memcpy(fw.flash + chunks[c].baseaddr, chunks[c].data, chunks[c].size);
                    if (end > fw.flashsize) {
                        fw.flashsize = end;
                    }
                }
            }
            free_ihex_chunks(chunks);
        } else if (elf_read_firmware(image, &fw) != 0) {
            fprintf(stderr, "mipnn_avr_run: cannot read %s\n", image);
            return STATUS_USAGE;
        }
    }
    if (mcu != NULL) {
        snprintf(fw.mmcu, sizeof fw.mmcu, "%s", mcu);
    }
    if (freq != 0) {
        fw.frequency = (uint32_t)freq;
    }
    if (baud == 0) {
        usage();
    }
    if (fw.mmcu[0] == '\0' || fw.frequency == 0) {
        fprintf(stderr, "mipnn_avr_run: give --mcu and --freq (the image does not say)\n");
        return STATUS_USAGE;
    }
    avr = avr_make_mcu_by_name(fw.mmcu);
    if (avr == NULL) {
        fprintf(stderr, "mipnn_avr_run: unknown MCU %s\n", fw.mmcu);
        return STATUS_USAGE;
    }
    avr_init(avr);
    avr->log = 0; /* simavr's own messages would mix with the program's output */
    avr_load_firmware(avr, &fw);
    if (exit_reg > avr->ramend) {
        fprintf(stderr, "mipnn_avr_run: --exit-reg outside the data space\n");
        return STATUS_USAGE;
    }
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT),
                            on_uart_output, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON),
                            on_uart_xon, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF),
                            on_uart_xoff, NULL);
    rx = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    byte_cycles = 10ull * fw.frequency / baud + 1ull;
    if (input_path != NULL) {
        input = read_file(input_path, &input_size);
    }

    for (;;) {
        if (has_measure) {
            if (!in_call && avr->pc == measure) {
                uint16_t sp = read_sp(avr);
                in_call = 1;
                call_start = avr->cycle;
                return_sp = (uint16_t)(sp + 2u);
                /* call pushes the return word address high byte last (at sp + 1). */
                return_pc = 2u * (uint32_t)((avr->data[sp + 1u] << 8) | avr->data[sp + 2u]);
            } else if (in_call && avr->pc == return_pc && read_sp(avr) == return_sp) {
                in_call = 0;
                fprintf(stderr, "~~~MIPNN CALL cycles=%llu~~~\n",
                        (unsigned long long)(avr->cycle - call_start));
            }
        }
        if (input_pos < input_size && uart_ready && !uart_xoff && avr->cycle >= next_input) {
            avr_raise_irq(rx, input[input_pos++]);
            next_input = avr->cycle + byte_cycles;
        }
        state = avr_run(avr);
        if (state == cpu_Done || state == cpu_Crashed) {
            break;
        }
        if (want_lines != 0 && lines_seen >= want_lines) {
            break;
        }
        if (avr->cycle >= max_cycles) {
            fflush(stdout);
            fprintf(stderr, "mipnn_avr_run: no end after %llu cycles (hang?)\n", max_cycles);
            return STATUS_HANG;
        }
    }
    fflush(stdout);
    if (has_measure) {
        fprintf(stderr, "~~~MIPNN CYCLES total=%llu~~~\n", (unsigned long long)avr->cycle);
    }
    if (state == cpu_Crashed) {
        fprintf(stderr, "mipnn_avr_run: simavr reports a crash at pc 0x%x\n", avr->pc);
        return STATUS_CRASH;
    }
    if (want_lines != 0 && lines_seen >= want_lines) {
        return 0;
    }
    return avr->data[exit_reg];
}
