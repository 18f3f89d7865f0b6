# cortex-m4: QEMU board mps2-an386 (Cortex-M4; no FPU flags: the model uses no floating point;
# FLOAT=hard turns the single-precision FPU on, for float C such as emlearn's networks).
# Everything else is shared with the other Cortex-M targets (cortex-m.inc).
CPU            := cortex-m4
QEMU_MACHINE   := mps2-an386
TOOLS          := arm-none-eabi-gcc arm-none-eabi-size arm-none-eabi-nm qemu-system-arm
APT_PACKAGES   := gcc-arm-none-eabi qemu-system-arm
TEST_APT_PACKAGES := libnewlib-arm-none-eabi
FLASH_SIZE     := 262144
RAM_SIZE       := 16384
ifeq ($(FLOAT),hard)
FLOAT_FLAGS    := -mfloat-abi=hard -mfpu=fpv4-sp-d16
endif
include $(FW_DIR)/targets/cortex-m.inc
