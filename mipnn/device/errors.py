"""The error the firmware driver raises when a target cannot be built or run, so that the
comparison with the reference cannot happen (mismatches are results, not errors)."""

from __future__ import annotations

from mipnn.trainer.errors import MipnnError


class FirmwareError(MipnnError):
    """A target cannot be built or run: unknown target, missing tools, compile error, crash,
    hang, or output that does not end with the sentinel line."""
