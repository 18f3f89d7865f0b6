# cortex-m3: QEMU board mps2-an385 (Cortex-M3).
# Everything else is shared with the other Cortex-M targets (cortex-m.inc).
CPU            := cortex-m3
QEMU_MACHINE   := mps2-an385
TOOLS          := arm-none-eabi-gcc arm-none-eabi-size arm-none-eabi-nm qemu-system-arm
APT_PACKAGES   := gcc-arm-none-eabi qemu-system-arm
TEST_APT_PACKAGES := libnewlib-arm-none-eabi
FLASH_SIZE     := 262144
RAM_SIZE       := 16384
include $(FW_DIR)/targets/cortex-m.inc
