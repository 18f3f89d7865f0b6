# avr: ATmega328P (Arduino Uno: 32 KB flash, 2 KB RAM, 16 MHz) under simavr, through a
# small runner linked with libsimavr (tools/mipnn_avr_run.c, built from source into the
# build directory): it streams USART0 to stdout, returns the exit status the firmware
# leaves in GPIOR1, and times every call of NAME_predict in exact cycles.
TOOLS          := avr-gcc avr-size avr-nm gcc
TOOL_FILES     := /usr/include/simavr/sim_avr.h /usr/lib/avr/include/avr/io.h
APT_PACKAGES   := gcc-avr avr-libc simavr libsimavr-dev gcc
# The Arduino library tests build the example sketch with Debian's Arduino AVR core and
# Arduino-Makefile (arduino-mk pulls in the Arduino IDE package) and flash it with avrdude.
TEST_APT_PACKAGES := arduino-core-avr arduino-mk avrdude
CC             := avr-gcc
SIZE           := avr-size
NM             := avr-nm
OPT            := -Os
TARGET_CFLAGS  := -mmcu=atmega328p -DF_CPU=16000000UL -ffunction-sections -fdata-sections
LDSCRIPT       :=
TARGET_LDFLAGS := -mmcu=atmega328p -Wl,--gc-sections
TARGET_LIBS    :=
PLATFORM_SRCS  := $(FW_DIR)/platform/mipnn_fw_avr.c
RUNNER_SRC     := $(FW_DIR)/tools/mipnn_avr_run.c
RUNNER_CFLAGS  := -idirafter /usr/include/simavr
RUNNER_LIBS    := -lsimavr
AVR_RUN         = $(RUNNER) --mcu atmega328p --freq 16000000 --max-cycles 4000000000
RUN             = $(AVR_RUN) $(IMAGE)
MEASURE        := simavr-cycles
MEASURE_LOG    :=
MEASURE_RUN     = $(AVR_RUN) --measure $(MEASURE_ENTRY) $(IMAGE)
COST_PROFILE   := avr
FLASH_SIZE     := 32768
RAM_SIZE       := 2048
