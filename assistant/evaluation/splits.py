"""A fixed tune / held-out split of every question set someone tunes on.

Tuning on a set and reporting on the same set overstates how well a choice carries over. Each
question falls in one half by a hash of its id (PubMedQA: the PubMed id; gold: "q001", ...), so
the split never changes when questions are added or reordered, and any script can recompute it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal, TypeVar

Split = Literal["tune", "held-out", "all"]
SPLITS: tuple[Split, ...] = ("tune", "held-out", "all")
T = TypeVar("T")


def split_of(item_id: str) -> Literal["tune", "held-out"]:
    """tune when the SHA-256 of the id, read as a number, is even; held-out when odd."""
    return "tune" if int(hashlib.sha256(item_id.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "held-out"


def in_split(items: Sequence[T], split: Split, id_of=lambda item: item.id) -> list[T]:
    """The items of one half (all of them for "all"), in their order."""
    if split == "all":
        return list(items)
    return [item for item in items if split_of(id_of(item)) == split]
