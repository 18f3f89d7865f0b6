# rv32: RV32IMAC on QEMU virt (-bios none), no libc: output and exit status through RISC-V
# semihosting (platform/mipnn_fw_riscv.c), laid out like a microcontroller
# (platform/riscv32.ld: "flash" 256K at 0x80000000, RAM 16K above it).
TOOLS          := riscv64-unknown-elf-gcc riscv64-unknown-elf-size riscv64-unknown-elf-nm \
                  qemu-system-riscv32
APT_PACKAGES   := gcc-riscv64-unknown-elf qemu-system-misc
CC             := riscv64-unknown-elf-gcc
SIZE           := riscv64-unknown-elf-size
NM             := riscv64-unknown-elf-nm
OPT            := -Os
TARGET_CFLAGS  := -march=rv32imac_zicsr -mabi=ilp32 -mcmodel=medany -ffunction-sections \
                  -fdata-sections -ffreestanding -fno-tree-loop-distribute-patterns
LDSCRIPT       := $(FW_DIR)/platform/riscv32.ld
TARGET_LDFLAGS := -march=rv32imac_zicsr -mabi=ilp32 -nostdlib -T$(LDSCRIPT) -Wl,--gc-sections
TARGET_LIBS    := -lgcc
PLATFORM_SRCS  := $(FW_DIR)/platform/mipnn_fw_riscv.c $(FW_DIR)/platform/mipnn_fw_semihosting.c \
                  $(FW_DIR)/platform/mipnn_fw_bare32.c
QEMU_COMMAND    = qemu-system-riscv32 -M virt -bios none -nographic -monitor none \
                  -serial null -chardev stdio,id=shc \
                  -semihosting-config enable=on,target=native,chardev=shc
RUN             = $(QEMU_COMMAND) -kernel $(IMAGE)
MEASURE        := qemu-exec-log
MEASURE_LOG     = $(OUT)/exec.log
MEASURE_RUN     = $(QEMU_COMMAND) -singlestep -d exec,nochain -D $(MEASURE_LOG) -kernel $(IMAGE)
COST_PROFILE   := rv32
FLASH_SIZE     := 262144
RAM_SIZE       := 16384
