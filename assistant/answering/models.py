"""Small fitted linear models shipped as JSON beside this module (evals/train_answering.py fits them).

Linear on purpose: a few hundred weights read with numpy, no training library at run time, and the
fitted weights can be read in the file. Each file records what it was fitted on and its held-out
figures, so a refit shows what changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

MODELS_DIR = Path(__file__).parent / "models"


@dataclass(frozen=True)
class LinearModel:
    """A logistic regression: standardized features, weights, bias, and an optional decision threshold."""

    features: tuple[str, ...]
    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    threshold: float = 0.5
    about: dict[str, Any] = field(default_factory=dict)

    def logit(self, x: np.ndarray) -> np.ndarray:
        """One logit per row of x (columns in `features` order)."""
        return ((np.atleast_2d(x) - self.mean) / self.scale) @ self.weights + self.bias

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    def to_json(self) -> dict[str, Any]:
        return {
            "about": self.about,
            "features": list(self.features),
            "threshold": self.threshold,
            "bias": self.bias,
            "weights": [round(float(w), 6) for w in self.weights],
            "mean": [round(float(m), 6) for m in self.mean],
            "scale": [round(float(s), 6) for s in self.scale],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearModel:
        return cls(
            features=tuple(data["features"]),
            weights=np.asarray(data["weights"], dtype=np.float64),
            bias=float(data["bias"]),
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            threshold=float(data.get("threshold", 0.5)),
            about=dict(data.get("about", {})),
        )


@cache
def load_model(name: str) -> LinearModel:
    """A shipped model by name (e.g. "finding"); a clear error when its file is missing."""
    path = MODELS_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: fitted model missing; refit with `python evals/train_answering.py`")
    return LinearModel.from_json(json.loads(path.read_text(encoding="utf-8")))


def save_model(name: str, model: LinearModel, folder: Path = MODELS_DIR) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    return path
