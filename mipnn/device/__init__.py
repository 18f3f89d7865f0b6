"""The firmware driver: builds the generated C with the golden-vector harness for a target
(``firmware/``, driven through ``make``), runs it natively or in an emulator, compares
every score and class with the Python reference bit for bit, and measures and reports
sizes, stack and the instructions (AVR: cycles) of one inference. One module per job:
``targets`` (the make fragments as data), ``vectors`` (golden vectors), ``build``,
``run`` (running an image, parsing its output, comparing), ``measure``, ``report`` and
``driver`` (``run_firmware``, all of it for one target and strategy); ``rawcheck`` holds
the raw golden vectors of a version-2 model and their comparison."""

from __future__ import annotations

from mipnn.device.build import build_runner
from mipnn.device.driver import run_firmware
from mipnn.device.errors import FirmwareError
from mipnn.device.measure import count_exec_log
from mipnn.device.rawcheck import RawMismatch, compare_raw, raw_golden_vectors
from mipnn.device.report import (
    FirmwareReport,
    table_header,
    table_legend,
    table_row,
    write_report,
)
from mipnn.device.run import SENTINEL, HarnessOutput, Mismatch, compare, parse_output
from mipnn.device.targets import (
    cost_profile,
    expand_targets,
    installed_targets,
    list_targets,
    missing_tools,
    target_info,
    vector_budget,
)
from mipnn.device.vectors import golden_vectors, target_raw_vectors, target_vectors

__all__ = [
    "SENTINEL",
    "FirmwareError",
    "FirmwareReport",
    "HarnessOutput",
    "Mismatch",
    "RawMismatch",
    "build_runner",
    "compare",
    "compare_raw",
    "cost_profile",
    "count_exec_log",
    "expand_targets",
    "golden_vectors",
    "installed_targets",
    "list_targets",
    "missing_tools",
    "parse_output",
    "raw_golden_vectors",
    "run_firmware",
    "table_header",
    "table_legend",
    "table_row",
    "target_info",
    "target_raw_vectors",
    "target_vectors",
    "vector_budget",
    "write_report",
]
