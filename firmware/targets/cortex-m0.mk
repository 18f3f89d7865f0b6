# cortex-m0: QEMU board microbit (nRF51822, Cortex-M0; 256K flash, 16K RAM).
# Everything else is shared with the other Cortex-M targets (cortex-m.inc).
CPU            := cortex-m0
QEMU_MACHINE   := microbit
TOOLS          := arm-none-eabi-gcc arm-none-eabi-size arm-none-eabi-nm qemu-system-arm
APT_PACKAGES   := gcc-arm-none-eabi qemu-system-arm
TEST_APT_PACKAGES := libnewlib-arm-none-eabi
FLASH_SIZE     := 262144
RAM_SIZE       := 16384
include $(FW_DIR)/targets/cortex-m.inc
