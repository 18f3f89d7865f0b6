"""The firmware sources (C harness, platforms, linker scripts, per-target make fragments),
installed as package data (``mipnn.firmware``); ``mipnn.device`` drives them through make."""
