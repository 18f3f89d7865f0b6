"""The code generator's error: a model the generated C cannot represent exactly, or an
unusable C name, strategy, cost profile or flash budget. A user can cause each of them, so
it is a ``MipnnError`` (the CLI prints one line and exits with status 2)."""

from __future__ import annotations

from mipnn.trainer.errors import MipnnError


class CodegenError(MipnnError):
    """The model cannot be represented in the generated C, or the C name is unusable."""
