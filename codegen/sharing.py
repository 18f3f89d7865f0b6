"""Shared work in the first layer of the unrolled strategies. Every first-layer neuron is
computed from an already computed node, ``z_k = z_j + (b_k - b_j) + sum_i (w_k[i] - w_j[i])
* x[i]``, so it costs one input term per weight where the two rows differ. The nodes are the
neurons, the zero row (start from the bias), possibly the column-wise most common row (a
shared partial sum), and Steiner points: column-wise medians of three nearby nodes, added
greedily while each makes the tree more than five terms cheaper (a node of its own costs a
statement and, in ``compact``, lists). The edges are a minimum spanning tree of the Hamming
distances between the rows (Prim's algorithm). ``sharing_tree`` builds it; ``emission_order``
walks it depth first in the order that keeps the fewest partial sums live."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def hamming(rows: np.ndarray) -> np.ndarray:
    """The matrix of Hamming distances between the rows (positions where they differ)."""
    k = rows.shape[0]
    out = np.zeros((k, k), dtype=np.int64)
    for a in range(k):
        out[a] = (rows != rows[a]).sum(axis=1)
    return out


def spanning_tree(rows: np.ndarray, with_base: bool) -> tuple[list[int], np.ndarray, int]:
    """Prim's tree over node 0 = the zero row (start from the bias), node 1 = the base row
    (column-wise most common weight; only when ``with_base``), then the neurons. Returns
    (parent of every node, the base row, total terms)."""
    k, n = rows.shape
    base = np.zeros(n, dtype=np.int64)
    if with_base and k > 1:
        for i in range(n):
            col = rows[:, i]
            values, counts = np.unique(col, return_counts=True)
            best_cost, best = k - int((col == 0).sum()), 0  # cost with base 0: neurons != 0
            for v, c in zip(values.tolist(), counts.tolist(), strict=True):
                cost = (1 if v != 0 else 0) + (k - c)
                if cost < best_cost:
                    best_cost, best = cost, v
            base[i] = best
    nodes = np.vstack([np.zeros((1, n), dtype=np.int64), base[None, :], rows])
    dist = hamming(nodes)
    total = len(nodes)
    parent = [-1] * total
    in_tree = [False] * total
    best = dist[0].copy()
    best_from = [0] * total
    in_tree[0] = True
    if not with_base:
        in_tree[1] = True  # the base row is not used
    cost = 0
    for _ in range(total - sum(in_tree)):
        cand = [(best[v], v) for v in range(total) if not in_tree[v]]
        if not cand:
            break
        c, v = min(cand)
        in_tree[v] = True
        parent[v] = best_from[v]
        cost += int(c)
        for u in range(total):
            if not in_tree[u] and dist[v, u] < best[u]:
                best[u] = dist[v, u]
                best_from[u] = v
    return parent, base, cost


def mst(dist: np.ndarray) -> tuple[list[int], int]:
    """Prim's minimum spanning tree from node 0 over the distance matrix: (parents, cost)."""
    total = len(dist)
    parent = [-1] * total
    in_tree = np.zeros(total, dtype=bool)
    in_tree[0] = True
    best = dist[0].astype(np.int64).copy()
    best_from = np.zeros(total, dtype=np.int64)
    cost = 0
    for _ in range(total - 1):
        cand = np.where(in_tree, np.iinfo(np.int64).max, best)
        v = int(np.argmin(cand))
        in_tree[v] = True
        parent[v] = int(best_from[v])
        cost += int(best[v])
        closer = ~in_tree & (dist[v] < best)
        best[closer] = dist[v][closer]
        best_from[closer] = v
    return parent, cost


def steiner_points(nodes: np.ndarray, fixed: int, cost: int,
                    node_cost: int = 5) -> tuple[list[np.ndarray], list[int], int]:
    """Shared partial sums beyond the spanning tree (Steiner points in Hamming space):
    greedily, for a node ``a`` of the tree and two of its tree neighbours ``b``, ``c``, the
    column-wise median ``m`` of the three replaces the edges a-b and a-c by m-a, m-b, m-c
    when that saves more than ``node_cost`` terms; the tree is then rebuilt over all nodes.
    ``nodes`` holds the rows of the tree's nodes (node 0 the zero row); returns (the added
    rows, the parents of every node, the cost)."""
    added: list[np.ndarray] = []
    rows = nodes
    dist = hamming(rows)
    parent, cost = mst(dist)
    for _ in range(min(max(0, fixed - 1), 64)):
        k = len(rows)
        adjacent: list[list[int]] = [[] for _ in range(k)]
        for v, par in enumerate(parent):
            if par >= 0:
                adjacent[v].append(par)
                adjacent[par].append(v)
        best: tuple[int, np.ndarray] | None = None
        for a in range(k):
            nbrs = adjacent[a]
            for bi, b in enumerate(nbrs):
                for c in nbrs[bi + 1:]:
                    ra, rb, rc = rows[a], rows[b], rows[c]
                    med = np.where(rb == rc, rb, ra)
                    da = int((med != ra).sum())
                    db = int((med != rb).sum())
                    dc = int((med != rc).sum())
                    if min(da, db, dc) == 0:
                        continue
                    gain = int(dist[a, b] + dist[a, c]) - da - db - dc
                    if gain > node_cost and (best is None or gain > best[0]):
                        best = (gain, med)
        if best is None:
            break
        med = best[1]
        dm = (rows != med).sum(axis=1)
        ext = np.zeros((k + 1, k + 1), dtype=np.int64)
        ext[:k, :k] = dist
        ext[k, :k] = ext[:k, k] = dm
        rows = np.vstack([rows, med[None, :]])
        dist = ext
        added.append(med)
        parent, cost = mst(dist)
    return added, parent, cost


@dataclass
class SharingTree:
    """The tree the first layer is computed along. Node 0 is the zero row, node 1 the
    shared base row (unused: no parent, no children), nodes ``2 .. 2 + k - 1`` the ``k``
    neurons, then the Steiner points."""

    parent: list[int]  # per node (-1: the root, or unused)
    base: np.ndarray  # the row of node 1 (zeros when unused)
    used_base: bool
    steiner: list[np.ndarray]  # the rows of the Steiner points
    cost: int  # input terms along the tree


def sharing_tree(rows: np.ndarray) -> SharingTree:
    """The cheapest tree found for the neurons' weight ``rows`` (one per neuron, at least
    one): with or without the base row, then with Steiner points."""
    n_inputs = rows.shape[1]
    plain = spanning_tree(rows, with_base=False)
    based = spanning_tree(rows, with_base=True)
    parent, base, cost = based if based[2] < plain[2] else plain
    used_base = based[2] < plain[2]
    # More shared partial sums (Steiner points): nodes 2 + len(neurons) onwards.
    tree_rows = np.vstack([np.zeros((1, n_inputs), dtype=np.int64), base[None, :], rows])
    if not used_base:  # keep node 1 out of the tree: a copy of the zero row
        tree_rows[1] = 0
    steiner, st_parent, st_cost = steiner_points(tree_rows, len(rows), cost)
    if steiner:
        parent, cost = st_parent, st_cost
        if not used_base:
            parent[1] = -1
            for v, par in enumerate(parent):
                if par == 1:
                    parent[v] = 0
    return SharingTree(parent=parent, base=base, used_base=used_base, steiner=steiner,
                       cost=cost)


def emission_order(parent: list[int]) -> list[tuple[int, int]]:
    """(node, parent) in the order the nodes are computed: depth first from node 0, so a
    node's value is needed only while its subtree is computed; the children of a node in
    increasing order of the values they keep live (Sethi-Ullman: the most demanding last,
    when the parent is no longer needed), so that fewer partial sums are live at once (on
    Thumb, values beyond the 8 low registers make every load and subtraction a 32-bit
    instruction)."""
    children: dict[int, list[int]] = {}
    for node, par in enumerate(parent):
        if par >= 0:
            children.setdefault(par, []).append(node)
    need: dict[int, int] = {}
    order, todo = [], [0]
    while todo:  # pre-order; reversed, every child comes before its parent
        node = todo.pop()
        order.append(node)
        todo.extend(children.get(node, []))
    for node in reversed(order):
        kids = children.get(node, [])
        kids.sort(key=lambda c: (need[c], c))
        need[node] = max([1] + [need[c] + 1 for c in kids[:-1]]
                         + [need[c] for c in kids[-1:]])
    out = []
    stack = [(c, 0) for c in reversed(children.get(0, []))]
    while stack:
        node, par = stack.pop()
        out.append((node, par))
        for c in reversed(children.get(node, [])):
            stack.append((c, node))
    return out
