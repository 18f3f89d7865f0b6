# cortex-m3: QEMU board mps2-an385 (it faults on unmapped reads), no libc,
# output and exit status through semihosting (platform/mipnn_fw_cortex_m.c).
CPU            := cortex-m3
TOOLS          := arm-none-eabi-gcc arm-none-eabi-size arm-none-eabi-nm qemu-system-arm
APT_PACKAGES   := gcc-arm-none-eabi qemu-system-arm
CC             := arm-none-eabi-gcc
SIZE           := arm-none-eabi-size
NM             := arm-none-eabi-nm
OPT            := -Os
TARGET_CFLAGS  := -mcpu=$(CPU) -mthumb -ffunction-sections -fdata-sections -ffreestanding \
                  -fno-tree-loop-distribute-patterns
LDSCRIPT       := $(FW_DIR)/platform/cortex-m.ld
TARGET_LDFLAGS := -mcpu=$(CPU) -mthumb -nostdlib -T$(LDSCRIPT) -Wl,--gc-sections
TARGET_LIBS    := -lgcc
PLATFORM_SRCS  := $(FW_DIR)/platform/mipnn_fw_cortex_m.c
RUN             = qemu-system-arm -M mps2-an385 -nographic -monitor none -serial null \
                  -chardev stdio,id=shc -semihosting-config enable=on,target=native,chardev=shc \
                  -kernel $(IMAGE)
