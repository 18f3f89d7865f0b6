"""The firmware driver: builds the generated C with the golden-vector harness for a target
(``firmware/``, driven through ``make``), runs it natively or in an emulator, compares
every score and class with the Python reference bit for bit, and measures and reports
sizes, stack and the instructions (AVR: cycles) of one inference. One module per job:
``targets`` (the make fragments as data), ``vectors`` (golden vectors), ``build``,
``run`` (running an image, parsing its output, comparing), ``measure``, ``report`` and
``driver`` (``run_firmware``, all of it for one target and strategy); ``rawcheck`` holds
the raw golden vectors of a version-2 model and their comparison."""

from __future__ import annotations

from mipnn.lazy import lazy_names

# the public names, imported from their modules on first use: importing one light module
# of the package (mipnn.device.targets from the CLI) does not load the trainer and pandas
_HOMES = {
    "FirmwareError": "mipnn.device.errors",
    "FirmwareReport": "mipnn.device.report",
    "HarnessOutput": "mipnn.device.run",
    "Mismatch": "mipnn.device.run",
    "RawMismatch": "mipnn.device.rawcheck",
    "SENTINEL": "mipnn.device.run",
    "build_runner": "mipnn.device.build",
    "compare": "mipnn.device.run",
    "compare_raw": "mipnn.device.rawcheck",
    "cost_profile": "mipnn.device.targets",
    "count_exec_log": "mipnn.device.measure",
    "expand_targets": "mipnn.device.targets",
    "golden_vectors": "mipnn.device.vectors",
    "installed_targets": "mipnn.device.targets",
    "list_targets": "mipnn.device.targets",
    "missing_tools": "mipnn.device.targets",
    "parse_output": "mipnn.device.run",
    "raw_golden_vectors": "mipnn.device.rawcheck",
    "run_firmware": "mipnn.device.driver",
    "table_header": "mipnn.device.report",
    "table_legend": "mipnn.device.report",
    "table_row": "mipnn.device.report",
    "target_info": "mipnn.device.targets",
    "target_raw_vectors": "mipnn.device.vectors",
    "target_vectors": "mipnn.device.vectors",
    "vector_budget": "mipnn.device.targets",
    "write_report": "mipnn.device.report",
}

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


__getattr__, __dir__ = lazy_names(__name__, _HOMES)
