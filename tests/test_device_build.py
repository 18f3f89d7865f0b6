"""Building images (mipnn/device/build.py): an image that does not fit the target's memory
is a clear build error, and compiler output is cut down to the first error."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_tools
from helpers_models import make_model

from mipnn.device.build import error_lines
from mipnn.device.driver import run_firmware
from mipnn.device.errors import FirmwareError
from mipnn.trainer.model import save_model


@pytest.mark.emulator
def test_image_too_big_for_flash_is_a_clear_build_error(tmp_path):
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", "make")
    model = make_model([1000, 2, 2])
    path = save_model(model, tmp_path / "big.json")
    vectors = np.zeros((300, 1000), dtype=np.uint8)  # 300 KB of vectors, flash is 256 KB
    with pytest.raises(FirmwareError, match="(?s)FLASH.*use fewer golden vectors"):
        run_firmware(path, "cortex-m3", vectors, measure=False)


def test_compiler_messages_start_at_the_first_error():
    text = "make: entering\nIn function 'f':\nx.c:3: warning: w\nx.c:4: error: e\n" + "more\n" * 40
    shown = error_lines(text, n=5).splitlines()
    assert shown[0] == "In function 'f':" and shown[2] == "x.c:4: error: e"
    assert shown[-1] == "... (38 more lines)" and len(shown) == 6
    assert error_lines("all fine\n") == "all fine"
