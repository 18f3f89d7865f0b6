# cortex-m4: QEMU board mps2-an386 (Cortex-M4; no FPU flags: the model uses no floating point).
# Everything else is shared with the other Cortex-M targets (cortex-m.inc).
CPU            := cortex-m4
QEMU_MACHINE   := mps2-an386
TOOLS          := arm-none-eabi-gcc arm-none-eabi-size arm-none-eabi-nm qemu-system-arm
APT_PACKAGES   := gcc-arm-none-eabi qemu-system-arm
FLASH_SIZE     := 262144
RAM_SIZE       := 16384
include $(FW_DIR)/targets/cortex-m.inc
