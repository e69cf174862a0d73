"""Sentence embeddings as bytes: how the detection queue carries them between daemons."""

from __future__ import annotations

from typing import Any

import numpy as np


def embedding_bytes(embedding: Any) -> bytes | None:
    """A sentence embedding as float32 bytes (None stays None)."""
    if embedding is None:
        return None
    return np.asarray(embedding, dtype=np.float32).ravel().tobytes()


def embedding_from(data: bytes | memoryview | None) -> Any:
    """The float32 vector `embedding_bytes` wrote (None stays None)."""
    if data is None:
        return None
    return np.frombuffer(bytes(data), dtype=np.float32).copy()
