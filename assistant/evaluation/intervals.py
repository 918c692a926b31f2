"""Percentile bootstrap intervals for every rate a metric function returns, questions resampled.

Generic on purpose: `bootstrap_intervals(items, statistic)` knows nothing about which metrics exist.
The statistic is any function from a sample of questions (records) to a summary dict; every float
in the summary (nested dicts too, e.g. `by_tag`) gets an interval. So a metric added to
`compute_metrics` gets its interval without a change here.

Resampling is seeded and drawn once as a (resamples x questions) index matrix, so a rerun on the
same records gives the same intervals, and a paired comparison of two runs can reuse the very same
draws for both (`resample_indices`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

RESAMPLES = 1000
SEED = 17
LEVEL = 0.95

T = TypeVar("T")
Statistic = Callable[[Sequence[T]], Mapping[str, Any]]
Interval = tuple[float, float]


def resample_indices(n: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """Row b = the question positions drawn (with replacement) for bootstrap sample b."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(resamples, n))


def float_leaves(summary: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], float]:
    """Every float in a (nested) summary by its key path; counts (ints), text and None are skipped."""
    leaves: dict[tuple[str, ...], float] = {}
    for key, value in summary.items():
        if isinstance(value, Mapping):
            leaves.update(float_leaves(value, (*prefix, key)))
        elif isinstance(value, float) and not np.isnan(value):
            leaves[(*prefix, key)] = value
    return leaves


def percentile_interval(values: Sequence[float], level: float = LEVEL) -> Interval | None:
    """The central `level` share of the bootstrap values (numpy's linear interpolation)."""
    if not values:
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(np.asarray(values, dtype=float), [tail, 100 - tail])
    return round(float(low), 4), round(float(high), 4)


def bootstrap_values(
    items: Sequence[T], statistic: Statistic, indices: np.ndarray
) -> dict[tuple[str, ...], list[float]]:
    """The statistic over each resample: metric path -> the values (samples where it is None skipped)."""
    values: dict[tuple[str, ...], list[float]] = {}
    for row in indices:
        for path, value in float_leaves(statistic([items[i] for i in row])).items():
            values.setdefault(path, []).append(value)
    return values


def bootstrap_intervals(
    items: Sequence[T],
    statistic: Statistic,
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> dict[str, Any]:
    """Intervals nested like the statistic's summary: {"hit@5": [lo, hi], "by_tag": {"x": {...}}}."""
    if not items:
        return {}
    point = float_leaves(statistic(items))
    values = bootstrap_values(items, statistic, resample_indices(len(items), resamples, seed))
    nested: dict[str, Any] = {}
    for path in point:
        interval = percentile_interval(values.get(path, []), level)
        if interval is None:
            continue
        node = nested
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = list(interval)
    return nested


def interval_at(intervals: Mapping[str, Any], *path: str) -> Interval | None:
    """The interval stored under a key path, or None."""
    node: Any = intervals
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return (node[0], node[1]) if isinstance(node, list | tuple) and len(node) == 2 else None


def method(resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL) -> dict[str, Any]:
    """How the intervals were made, stored beside them so a reader (and a rerun) can check."""
    return {
        "kind": "percentile bootstrap",
        "unit": "question",
        "resamples": resamples,
        "seed": seed,
        "level": level,
    }
