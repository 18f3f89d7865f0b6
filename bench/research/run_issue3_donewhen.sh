#!/bin/sh
# The done-when subset of issue 3 (Adult and Heart, N=200, P=1, 5 seeds, 300 s), one cell
# after another so that finished cells are complete; resumable (bench/paper.py caches runs).
cd "$(dirname "$0")/../.." || exit 1
PY=.venv/bin/python
$PY bench/paper.py --dataset adult heart --n 200 --bound 1 --objective gd --jobs 1
$PY bench/paper.py --dataset adult --n 200 --bound 1 --objective sat_margin --jobs 1
$PY bench/paper.py --dataset heart --n 200 --bound 1 --objective max_correct --jobs 1
$PY bench/paper.py --dataset heart --n 200 --bound 1 --objective sat_margin --jobs 1
$PY bench/paper.py --dataset adult --n 200 --bound 1 --objective min_hinge --jobs 1
$PY bench/paper.py --dataset adult --n 200 --bound 1 --objective max_correct --jobs 1
$PY bench/paper.py --dataset heart --n 200 --bound 1 --objective min_hinge --jobs 1
