"""The training options (trainer/train_config.py): a bad value is a user error."""

from __future__ import annotations

import pytest
from mipnn.trainer.errors import MipnnError
from mipnn.trainer.train_config import TrainConfig


def test_bad_config_is_a_user_error():
    with pytest.raises(MipnnError, match="objective"):
        TrainConfig(objective="nope").check()
    with pytest.raises(MipnnError, match="bound"):
        TrainConfig(bound=0).check()
