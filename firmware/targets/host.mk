# host: native gcc; the harness is an ordinary program printing to stdout.
# UBSan aborts on any signed overflow, so an accumulator that is too narrow fails loudly.
TOOLS          := gcc size nm
APT_PACKAGES   := gcc make binutils
CC             := gcc
SIZE           := size
NM             := nm
OPT            := -O2
TARGET_CFLAGS  := -fsanitize=undefined -fno-sanitize-recover=undefined
LDSCRIPT       :=
TARGET_LDFLAGS := -fsanitize=undefined
TARGET_LIBS    :=
PLATFORM_SRCS  := $(FW_DIR)/platform/mipnn_fw_host.c
RUN             = $(IMAGE)
COST_PROFILE   := host
# SANITIZE=1 (mipnn firmware --sanitize): AddressSanitizer too, and every finding of either
# sanitizer ends the run with a report on stderr.
SANITIZE_FLAGS := -fsanitize=undefined,address -fno-sanitize-recover=all
