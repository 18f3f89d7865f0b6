/* mipnn_avr_run: run an AVR program in simavr (linked with libsimavr), cleanly.

   usage: mipnn_avr_run [--mcu NAME] [--freq HZ] [--input FILE] [--baud N] [--measure ADDR]
                        [--max-cycles N] [--lines N] [--exit-reg ADDR]
                        [--bootloader BOOT.hex] [--pty] [--realtime] [IMAGE.elf|IMAGE.hex]

   - Bytes the program sends on USART0 are streamed to stdout unchanged.
   - --input FILE ('-': stdin): bytes fed to USART0's receiver once the program enables it,
     one byte per frame time at --baud (default 115200, 10 bits a byte), as a wire would:
     simavr's receive FIFO holds 64 bytes and drops what arrives faster. A lower --baud
     than the program's paces the input without changing the program.
   - The run ends when the core sleeps with interrupts disabled (cli + sleep): the exit
     status is then the byte in the exit register (default GPIOR1, data address 0x4A).
     It also ends after --lines N newlines of output (status 0), or with status 124 after
     --max-cycles (a hang), or 127 if simavr reports a crash.
   - --bootloader BOOT.hex --pty --realtime: a board waiting to be flashed. The boot loader
     (e.g. the Uno's Optiboot) is loaded at its address and runs first, as after an
     external reset (BOOTRST fuse, EXTRF set); USART0 is bridged to a new pseudo-terminal
     whose name is printed on stderr as "~~~MIPNN PTY <path>~~~", so avrdude can flash the
     board through it; the simulation is held to real time so the boot loader's timeout
     behaves. IMAGE is optional then. SIGUSR1 power-cycles the board (a power-on reset:
     Optiboot then starts the program at once), as unplugging and replugging an Uno would.
   - --measure ADDR (byte address of a function, e.g. from avr-nm): every call of it is
     timed from its first instruction to its return (ret included), in exact core cycles,
     and reported on stderr as "~~~MIPNN CALL cycles=<n>~~~". The total cycle count of the
     run is reported as "~~~MIPNN CYCLES total=<n>~~~".

   Built from source by firmware/Makefile with the host compiler (EMBEDDED.md). */
#define _DEFAULT_SOURCE /* cfmakeraw */
#define _XOPEN_SOURCE 600 /* posix_openpt */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "avr_uart.h"
#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_irq.h"

#define STATUS_HANG 124
#define STATUS_CRASH 127
#define STATUS_USAGE 2

static volatile sig_atomic_t power_cycle;
static unsigned long lines_seen;
static int pty_master = -1;
static int uart_xoff;
static int uart_ready; /* the receiver was enabled (simavr raised XON) */

static void on_uart_output(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)param;
    if (pty_master >= 0) {
        unsigned char byte = (unsigned char)(value & 0xFFu);
        if (write(pty_master, &byte, 1) < 0 && errno != EAGAIN) {
            perror("mipnn_avr_run: pty write");
        }
    }
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
            "                     [--measure ADDR] [--max-cycles N] [--lines N]\n"
            "                     [--exit-reg ADDR] [--bootloader BOOT.hex] [--pty]\n"
            "                     [--realtime] [IMAGE]\n");
    exit(STATUS_USAGE);
}

static int hex_byte(const char *text)
{
    int v = 0, k;
    for (k = 0; k < 2; ++k) {
        char c = text[k];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= c - '0';
        } else if (c >= 'A' && c <= 'F') {
            v |= c - 'A' + 10;
        } else if (c >= 'a' && c <= 'f') {
            v |= c - 'a' + 10;
        } else {
            return -1;
        }
    }
    return v;
}

/* Load an Intel hex file's data below 256K into fw's flash (allocated and erased to 0xFF
   on first use) and return the lowest address written. Record types 00 (data), 01 (end),
   02 and 04 (address bases); 03 and 05 (start addresses) are ignored. */
static uint32_t load_hex(const char *path, elf_firmware_t *fw)
{
    FILE *f = fopen(path, "r");
    char line[600];
    uint32_t base = 0, lowest = UINT32_MAX;
    unsigned lineno = 0;
    if (f == NULL) {
        perror(path);
        exit(STATUS_USAGE);
    }
    if (fw->flash == NULL) {
        fw->flash = malloc(256u * 1024u);
        if (fw->flash == NULL) {
            exit(STATUS_USAGE);
        }
        memset(fw->flash, 0xFF, 256u * 1024u);
        fw->flashbase = 0;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        int count, type, k, sum = 0;
        uint32_t addr;
        ++lineno;
        if (line[0] != ':') {
            continue;
        }
        for (k = 1; line[k] != '\0' && line[k] != '\r' && line[k] != '\n'; k += 2) {
            int b = hex_byte(line + k);
            if (b < 0) {
                break;
            }
            sum += b;
        }
        count = hex_byte(line + 1);
        type = hex_byte(line + 7);
        if (count < 0 || type < 0 || (sum & 0xFF) != 0 || (int)strlen(line) < 11 + 2 * count) {
            fprintf(stderr, "mipnn_avr_run: %s:%u: bad hex record\n", path, lineno);
            exit(STATUS_USAGE);
        }
        addr = (uint32_t)((hex_byte(line + 3) << 8) | hex_byte(line + 5));
        if (type == 0) {
            for (k = 0; k < count; ++k) {
                uint32_t at = base + addr + (uint32_t)k;
                if (at >= 256u * 1024u) {
                    break; /* EEPROM, fuses: not flash */
                }
                fw->flash[at] = (uint8_t)hex_byte(line + 9 + 2 * k);
                if (at + 1u > fw->flashsize) {
                    fw->flashsize = at + 1u;
                }
                if (at < lowest) {
                    lowest = at;
                }
            }
        } else if (type == 1) {
            break;
        } else if (type == 2) {
            base = (uint32_t)((hex_byte(line + 9) << 8) | hex_byte(line + 11)) << 4;
        } else if (type == 4) {
            base = (uint32_t)((hex_byte(line + 9) << 8) | hex_byte(line + 11)) << 16;
        }
    }
    fclose(f);
    if (lowest == UINT32_MAX) {
        fprintf(stderr, "mipnn_avr_run: %s: no data\n", path);
        exit(STATUS_USAGE);
    }
    return lowest;
}

/* A raw pseudo-terminal; its slave stays open here, so it survives avrdude closing it. */
static int open_pty(void)
{
    struct termios tio;
    int master = posix_openpt(O_RDWR | O_NOCTTY), slave;
    const char *name;
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        perror("mipnn_avr_run: pty");
        exit(STATUS_USAGE);
    }
    name = ptsname(master);
    slave = open(name, O_RDWR | O_NOCTTY);
    if (slave < 0 || tcgetattr(slave, &tio) != 0) {
        perror("mipnn_avr_run: pty slave");
        exit(STATUS_USAGE);
    }
    cfmakeraw(&tio);
    tcsetattr(slave, TCSANOW, &tio);
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    fprintf(stderr, "~~~MIPNN PTY %s~~~\n", name);
    fflush(stderr);
    return master;
}

static void on_sigusr1(int signo)
{
    (void)signo;
    power_cycle = 1;
}

static int is_hex(const char *path)
{
    size_t len = strlen(path);
    return len > 4 && strcmp(path + len - 4, ".hex") == 0;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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
    const char *mcu = NULL, *input_path = NULL, *image = NULL, *boot_path = NULL;
    int use_pty = 0, realtime = 0;
    uint32_t boot = 0;
    double started = wall_seconds();
    unsigned long long freq = 0, max_cycles = 20000000000ull, measure = 0, want_lines = 0;
    unsigned long long exit_reg = 0x4A; /* GPIOR1 on the ATmega328P */
    unsigned long long baud = 115200, byte_cycles;
    avr_cycle_count_t next_input = 0, next_sync = 0;
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
        } else if (strcmp(argv[i], "--bootloader") == 0 && i + 1 < argc) {
            boot_path = argv[++i];
        } else if (strcmp(argv[i], "--pty") == 0) {
            use_pty = 1;
        } else if (strcmp(argv[i], "--realtime") == 0) {
            realtime = 1;
        } else if (argv[i][0] == '-' || image != NULL) {
            usage();
        } else {
            image = argv[i];
        }
    }
    if (image == NULL && boot_path == NULL) {
        usage();
    }
    memset(&fw, 0, sizeof fw);
    if (image != NULL) {
        if (is_hex(image)) {
            (void)load_hex(image, &fw);
        } else if (elf_read_firmware(image, &fw) != 0) {
            fprintf(stderr, "mipnn_avr_run: cannot read %s\n", image);
            return STATUS_USAGE;
        }
    }
    if (boot_path != NULL) {
        if (image != NULL && !is_hex(image)) {
            fprintf(stderr, "mipnn_avr_run: --bootloader goes with a .hex image (or none)\n");
            return STATUS_USAGE;
        }
        boot = load_hex(boot_path, &fw);
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
    if (fw.flashsize > avr->flashend + 1u) {
        /* e.g. Optiboot's hex carries a version record past the end of a 32K part */
        fw.flashsize = avr->flashend + 1u;
    }
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
    if (boot_path != NULL) {
        /* BOOTRST: reset (and every later reset) starts the boot loader, as after the
           external reset an Uno's serial DTR line causes (MCUSR.EXTRF, 0x54 bit 1 on the
           ATmega328P family). */
        avr->reset_pc = boot;
        avr->pc = boot;
        avr->data[0x54] = 0x02;
    }
    if (use_pty) {
        pty_master = open_pty();
        signal(SIGUSR1, on_sigusr1);
    }
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
        if (pty_master >= 0 && uart_ready && !uart_xoff && avr->cycle >= next_input) {
            unsigned char byte;
            if (read(pty_master, &byte, 1) == 1) {
                avr_raise_irq(rx, byte);
            }
            next_input = avr->cycle + byte_cycles;
        }
        if (realtime && avr->cycle >= next_sync) {
            next_sync = avr->cycle + 16384u;
            double ahead = (double)avr->cycle / (double)fw.frequency
                           - (wall_seconds() - started);
            if (ahead > 0.002) {
                struct timespec ts;
                ts.tv_sec = (time_t)ahead;
                ts.tv_nsec = (long)((ahead - (double)ts.tv_sec) * 1e9);
                nanosleep(&ts, NULL);
            }
        }
        if (power_cycle) {
            power_cycle = 0;
            avr_reset(avr);
            avr->data[0x54] = 0x01; /* MCUSR.PORF: power-on reset */
            uart_ready = 0;
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
