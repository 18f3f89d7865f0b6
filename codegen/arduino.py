"""Board-ready packages: an Arduino library (also a PlatformIO library) for one model.

``export_arduino(MODEL, DIR)`` writes::

    DIR/library.properties            Arduino library metadata (1.5 format)
    DIR/library.json                  the same for PlatformIO
    DIR/src/NAME.h, DIR/src/NAME.c    the generated model (as ``mipnn export`` writes it)
    DIR/examples/NAME/NAME.ino        reads examples over Serial, prints the class

Copy ``DIR`` into the Arduino ``libraries`` folder (or point PlatformIO's ``lib_deps`` at
it); the example appears under File > Examples. The C is the same as ``mipnn export``
writes; ``auto`` tunes it for the ATmega328P (Uno) unless another cost profile is given.
"""

from __future__ import annotations

import json
from pathlib import Path

from mipnn.codegen.export import generate, write_if_changed
from mipnn.codegen.names import resolve_name
from mipnn.codegen.templating import (
    banner_lines,
    comment_safe,
    comment_text,
    environment,
    mipnn_version,
)
from mipnn.trainer.model import file_sha256, load_model
from mipnn.trainer.outputs import output_dir


def c_string(text: str) -> str:
    """A C string literal holding the UTF-8 bytes of ``text`` (octal escapes for anything
    but printable ASCII; ``?`` escaped so no trigraph can form)."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\?':
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def export_arduino(
    model_path: Path,
    out_dir: Path,
    name: str | None = None,
    strategy: str = "auto",
    profile: str | None = "avr",
    flash_budget: int | None = None,
) -> list[Path]:
    """Write the Arduino/PlatformIO library of the model file into ``out_dir`` and return
    the written paths."""
    model_path = Path(model_path)
    model = load_model(model_path)
    cname = resolve_name(model, name)
    sha = file_sha256(model_path)
    gen = generate(model, name=cname, model_sha256=sha, strategy=strategy, profile=profile,
                   flash_budget=flash_budget)
    out_dir = output_dir(out_dir, "Arduino library directory")
    output_dir(out_dir / "src", "Arduino library directory")
    output_dir(out_dir / "examples" / cname, "Arduino library directory")
    shape = "-".join(str(n) for n in model.shape)
    context = {
        "name": cname,
        "NAME": cname.upper(),
        "version": mipnn_version(),
        "model_name": model.name.replace("\n", " "),
        "model_name_json": json.dumps(model.name)[1:-1].replace('"', "'"),
        "shape": shape,
        "n_inputs": model.input_size,
        "n_classes": model.n_classes,
        "levels": model.levels,
        "sha256": sha,
        "labels": [(k, c_string(label)) for k, label in enumerate(model.classes)],
        "banner": [
            comment_safe(line)
            for line in banner_lines(
                sha, f"Arduino example for model {comment_text(model.name)}."
            )
        ],
    }
    env = environment()
    written = [
        write_if_changed(out_dir / "src" / fname, text) for fname, text in gen.files.items()
    ]
    written.append(
        write_if_changed(
            out_dir / "examples" / cname / f"{cname}.ino",
            env.get_template("arduino/example.ino.j2").render(context),
        )
    )
    written.append(
        write_if_changed(
            out_dir / "library.properties",
            env.get_template("arduino/library.properties.j2").render(context),
        )
    )
    library_json = env.get_template("arduino/library.json.j2").render(context)
    json.loads(library_json)  # must be valid JSON
    written.append(write_if_changed(out_dir / "library.json", library_json))
    return written
