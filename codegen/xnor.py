"""The ``xnor`` strategy: as ``unrolled`` for the first layer; the +/-1 outputs of every
sign layer are packed into bit words, and the layers after the first compute
``sum_j w[k][j] * a[j]`` with XOR and a popcount per bit plane of ``|w|``:
``sum_{j in M} s_j a_j = 2 * popcount((h ^ T) & M) - |M|`` where ``h`` holds the bits
``a_j = +1``, ``M`` the weights with that plane's bit set, and ``T`` those of them that are
negative (``s_j = -1``)."""

from __future__ import annotations

from mipnn.codegen.program import Op
from mipnn.codegen.ranges import INT16_MAX, Interval
from mipnn.codegen.simplify import SimpleNetwork
from mipnn.codegen.unrolled import UnrolledBuilder


class XnorBuilder(UnrolledBuilder):
    """The unrolled program with packed sign words and popcounts after the first layer."""

    def __init__(self, net: SimpleNetwork) -> None:
        super().__init__(net)
        # packed words of layer li's outputs: (li, neuron) -> (word var, type, bit, width)
        self.bit_of: dict[tuple[int, int], tuple[str, str, int, int]] = {}

    def prepare_consumers(self, li: int) -> None:
        """The signs of hidden layer ``li`` feed bit words (``h<li+1>_<w>``), all zero."""
        neurons = list(self.net.layers[li].rows)
        n = len(neurons)
        width = 8 if n <= 8 else 16 if n <= 16 else 32
        wtype = {8: "uint8_t", 16: "uint16_t", 32: "uint32_t"}[width]
        for w in range((n + width - 1) // width):
            word = f"h{li + 1}_{w}"
            self.words.append((word, wtype))
            self.emit(Op("let", var=word, ctype=wtype, value=0))
        for pos, j in enumerate(neurons):
            self.bit_of[(li, j)] = (f"h{li + 1}_{pos // width}", wtype, pos % width, width)

    def consume(self, li: int, j: int) -> None:
        """Set the bit of neuron ``j`` of hidden layer ``li`` when its sign is +1."""
        var = self.var_of[(li, j)]
        word, wtype, bit, _ = self.bit_of[(li, j)]
        self.emit(Op("pack", var=var, word=word, word_type=wtype, index=bit, value=1 << bit))
        self.counts["pack"] += 1

    def later_layer(self, li: int) -> None:
        """Layer ``li >= 1``: popcounts over the packed words of layer ``li - 1``."""
        layer = self.net.layers[li]
        last = li == len(self.net.layers) - 1
        if not last:
            self.prepare_consumers(li)
        # group the previous layer's neurons by word
        by_word: dict[str, list[tuple[int, int, int]]] = {}
        word_info: dict[str, tuple[str, int]] = {}
        for (pl, j), (word, wtype, bit, width) in self.bit_of.items():
            if pl == li - 1:
                by_word.setdefault(word, []).append((j, bit, width))
                word_info[word] = (wtype, width)
        for k, (row, bias) in layer.rows.items():
            var = self.var(li, k)
            terms: list[tuple[str, str, int, int, int, int]] = []
            start = bias
            for word, members in by_word.items():
                wtype, width = word_info[word]
                mags = {j: abs(row.get(j, 0)) for j, _, _ in members}
                top = max(mags.values(), default=0)
                for plane in range(top.bit_length()):
                    mask = flip = 0
                    count = 0
                    for j, bit, _ in members:
                        if (mags[j] >> plane) & 1:
                            mask |= 1 << bit
                            count += 1
                            if row[j] < 0:
                                flip |= 1 << bit
                    if mask:
                        start -= count << plane
                        terms.append((word, wtype, width, flip, mask, plane + 1))
            iv = Interval(start, start)
            for _word, _wt, _width, _flip, mask, shift in terms:
                iv.add(0, bin(mask).count("1") << shift)
            ctype = iv.ctype
            self.type_of[var] = ctype
            self.emit(Op("let", var=var, ctype=ctype, value=start))
            self.counts["neuron"] += 1
            for word, wtype, width, flip, mask, shift in terms:
                full = (1 << width) - 1
                self.popcount_widths.add(width)
                self.emit(
                    Op("xnor", var=var, ctype=ctype, word=word, word_type=wtype, bits=width,
                       flip=flip, mask=mask if mask != full else 0, shift=shift,
                       value=1 << shift, wide=(width << shift) > INT16_MAX)
                )
                self.counts["popcount"] += 1
            self.var_of[(li, k)] = var
            if not last:
                self.consume(li, k)
