"""The whole firmware check for one model, target and strategy (ARCHITECTURE.md 6): export
the model's C, build it with the golden-vector harness for the target through ``make``,
run it (natively or in the emulator), compare every score and class with the Python
reference, bit for bit, and measure sizes, stack and the cost of one inference. Builds go
to a work directory outside the source tree (a fresh temporary one by default), so
parallel runs never collide."""

from __future__ import annotations

import shlex
import tempfile
import time
from pathlib import Path

import numpy as np

from mipnn.codegen.errors import CodegenError
from mipnn.codegen.export import generate, render_vectors
from mipnn.codegen.names import resolve_name
from mipnn.device.build import build_image, write_sources
from mipnn.device.errors import FirmwareError
from mipnn.device.measure import image_sizes, measure_model, predict_stack
from mipnn.device.rawcheck import compare_raw, raw_golden_vectors
from mipnn.device.report import FirmwareReport
from mipnn.device.run import compare, exit_error, parse_output, run_image
from mipnn.device.targets import check_target, make_info, missing_from, missing_tools_error
from mipnn.device.vectors import check_vectors
from mipnn.trainer.model import Model, model_with_sha256
from mipnn.trainer.outputs import output_dir


def run_firmware(
    model_source: Model | str | Path,
    target: str,
    vectors: np.ndarray,
    workdir: Path | None = None,
    name: str | None = None,
    *,
    strategy: str = "auto",
    reference: Model | None = None,
    timeout: float = 120.0,
    measure: bool = True,
    measure_vectors: int = 3,
    flash_budget: int | None = None,
    sanitize: bool = False,
    raw_vectors: np.ndarray | None = None,
) -> FirmwareReport:
    """Export the C of a model file or a Model in memory (``model_source``) with
    ``strategy`` (``auto``: chosen by the target's cost model, within ``flash_budget`` bytes
    of model flash, default the target profile's budget; ``compact`` is planned for
    ``flash_budget``, all table without one), build it with the harness and ``vectors`` for ``target``, run it (natively or in the
    emulator) and compare every class and score with ``mipnn.trainer.model.forward`` of
    ``reference`` (default: the model itself).

    With ``measure``, also build the image without the model (for the model's own flash
    and RAM) and count the instructions (or AVR cycles) of one inference on the first
    ``measure_vectors`` vectors (see ``mipnn.device.measure``).

    With ``sanitize``, the image is built with the target's sanitizers (``SANITIZE=1``:
    on the host, AddressSanitizer and UndefinedBehaviorSanitizer, every finding fatal) and
    checked, not measured; a finding raises FirmwareError quoting it.

    A version-2 model (ARCHITECTURE.md 8) also runs ``raw_vectors`` (default: the edge and
    random rows of ``mipnn.device.rawcheck.raw_golden_vectors``) through
    ``NAME_predict_raw`` and ``NAME_encode``, compared with ``encode_raw`` and ``forward``
    of ``reference``, and measures both; a version-1 model takes none.

    Mismatches are reported in the result (``report.ok`` is False); everything that keeps
    the comparison from happening (unknown target, missing tools, compile error, crash,
    hang, missing sentinel, non-zero exit) raises FirmwareError.
    """
    started = time.perf_counter()
    check_target(target)
    model, sha = model_with_sha256(model_source)
    cname = resolve_name(model, name)
    if cname.startswith("mipnn_fw"):
        raise CodegenError(f"C name {cname!r} is reserved for the firmware harness")
    vectors = check_vectors(model, vectors)
    ref = reference if reference is not None else model
    if not model.has_raw_inputs:
        raw_vectors = None
    elif raw_vectors is None:
        raw_vectors = raw_golden_vectors(model, None, n_random=16)

    with tempfile.TemporaryDirectory(prefix="mipnn-fw-") as tmp:
        root = (output_dir(workdir, "build directory").resolve() if workdir is not None
                else Path(tmp))
        info0 = make_info(target, {})
        missing = missing_from(info0)
        if missing:
            raise missing_tools_error(target, missing, info0.get("APT_PACKAGES", "").split())
        if sanitize and not info0.get("SANITIZE_FLAGS"):
            raise FirmwareError(f"target {target!r} has no sanitizer build (only the host)")
        gen_out = generate(
            model,
            name=cname,
            model_sha256=sha,
            strategy=strategy,
            profile=info0.get("COST_PROFILE") or None,
            flash_budget=flash_budget,
        )
        build = root / gen_out.strategy
        gen = build / f"gen-{target}"
        variables = {"BUILD": str(build), "GEN": str(gen), "MODEL": cname}
        if sanitize:
            variables["SANITIZE"] = "1"
            measure = False  # sizes and counts of an instrumented image mean nothing
        info = make_info(target, variables)
        write_sources(
            gen, gen_out.files,
            render_vectors(model, vectors, name=cname, model_sha256=sha,
                           raw_vectors=raw_vectors),
        )

        build_seconds = build_image(target, variables)
        image = Path(info["IMAGE"])
        code, output, errors, run_seconds = run_image(shlex.split(info["RUN"]), timeout, target)
        if code != 0:
            raise exit_error(target, code, output, errors)
        n_raw = 0 if raw_vectors is None else len(raw_vectors)
        parsed = parse_output(output, len(vectors), model.n_classes, n_raw, model.input_size)
        mismatches = compare(ref, vectors, parsed.classes, parsed.scores)
        raw_mismatches = ([] if raw_vectors is None or parsed.raw is None
                          else compare_raw(ref, raw_vectors, parsed.raw))
        flash, ram, reserved = image_sizes(info["SIZE"], image)
        report = FirmwareReport(
            target=target,
            name=cname,
            n_vectors=len(vectors),
            mismatches=mismatches,
            flash_bytes=flash,
            ram_bytes=ram,
            stack_reserved_bytes=reserved,
            model_flash_bytes=None,
            model_stack_bytes=predict_stack(image.parent, cname),
            build_seconds=build_seconds,
            run_seconds=run_seconds,
            elapsed=0.0,
            output=output,
            strategy=gen_out.strategy,
            requested_strategy=strategy,
            stack_used_bytes=parsed.stack_used,
            call_stack_bytes=parsed.call_stack,
            notes=list(gen_out.notes),
            flash_budget=gen_out.flash_budget,
            image=image if workdir is not None else None,
            classes=parsed.classes,
            scores=parsed.scores,
            raw_vectors=n_raw,
            raw_mismatches=raw_mismatches,
            raw_call_stack_bytes=parsed.raw_call_stack,
        )
        if measure:
            t0 = time.perf_counter()
            measure_model(
                report, model, vectors, target, variables, gen, cname, sha, timeout,
                measure_vectors, raw_vectors,
            )
            report.measure_seconds = time.perf_counter() - t0
    report.elapsed = time.perf_counter() - started
    return report
