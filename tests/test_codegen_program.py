"""The unrolled program's data (codegen/program.py): the header of a ``compact`` list."""

from __future__ import annotations

from mipnn.codegen.program import list_count, list_header


def test_compact_list_headers():
    # a list's header: 8 * (loop iterations) + (count % 8), inverted by list_count
    assert [list_header(n) for n in (1, 7, 8, 9, 248)] == [9, 15, 8, 17, 248]
    assert all(list_count(list_header(n)) == n for n in range(1, 70000))
