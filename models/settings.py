"""The `[models]` configuration table: which sentiment, complaint and harm models run, and how."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SentimentLabel = Literal["negative", "neutral", "positive"]


class ModelsTable(BaseModel):
    """Base for `[models]` tables: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())


class SentimentSettings(ModelsTable):
    """`[models.sentiment]`: the embedded head (default) or any Hugging Face classifier."""

    backend: Literal["embedded", "transformers"] = "embedded"
    # transformers: a hub id or a local directory. embedded: not used.
    model: str | None = None
    # embedded: a head weights file to use instead of the shipped one (from `models train`).
    weights: Path | None = None
    # embedded: blend in the n-gram model for non-English text in the languages it was trained
    # on (ar de es fr hi it pt); false scores every language with the English encoder head.
    # Off by default in 0.3: it reads some French praise as negative (the demo's chatter).
    multilingual: bool = False
    # embedded: an n-gram model file instead of the shipped one (`models train multilingual`).
    multilingual_weights: Path | None = None
    device: str = "cpu"
    batch_size: int = Field(default=32, ge=1, le=4096)
    max_length: int = Field(default=128, ge=8, le=8192)
    # For models whose label names are not recognised: model label -> negative/neutral/positive.
    labels: dict[str, SentimentLabel] = {}

    @model_validator(mode="after")
    def _backend_keys(self) -> SentimentSettings:
        if self.backend == "transformers":
            if not self.model:
                raise ValueError(
                    'backend = "transformers" needs model = "<hub id or local directory>", e.g. '
                    '"cardiffnlp/twitter-xlm-roberta-base-sentiment"'
                )
            if self.weights is not None or self.multilingual_weights is not None:
                raise ValueError(
                    'weights and multilingual_weights apply to backend = "embedded" only'
                )
        else:
            if self.model is not None:
                raise ValueError(
                    'model applies to backend = "transformers"; the embedded backend uses the '
                    "shipped head (or weights = PATH)"
                )
            if self.labels:
                raise ValueError('labels applies to backend = "transformers" only')
        return self


class ComplaintSettings(ModelsTable):
    """`[models.complaint]`: the complaint head on the shared embeddings."""

    weights: Path | None = None  # default: the shipped head


class HarmSettings(ModelsTable):
    """`[models.harm]`: the harm-claim classifier (lexicon cues plus a semantic score)."""

    # prototypes: cues + similarity to example claims on the shared embeddings (default);
    # lexicon: cues only; zero-shot: cues + any NLI model named by `model`.
    backend: Literal["prototypes", "lexicon", "zero-shot"] = "prototypes"
    model: str | None = None
    hypothesis_template: str = "This text claims {}."
    device: str = "cpu"
    batch_size: int = Field(default=16, ge=1, le=4096)
    max_length: int = Field(default=256, ge=8, le=8192)

    @model_validator(mode="after")
    def _model_for_zero_shot(self) -> HarmSettings:
        if self.backend == "zero-shot" and not self.model:
            raise ValueError(
                'backend = "zero-shot" needs model = "<NLI model id or local directory>"'
            )
        if self.backend != "zero-shot" and self.model is not None:
            raise ValueError('model applies to backend = "zero-shot" only')
        return self


class ModelsConfig(ModelsTable):
    """`[models]`: the shared encoder and the models that read its embeddings."""

    device: str = "cpu"
    # torch CPU threads; None leaves torch's default.
    threads: int | None = Field(default=None, ge=1, le=256)
    # Texts per encoder pass. 16 on CPU: as fast as 64 and ~200 MB less peak memory, since
    # every layer's activations for the whole pass are held at once.
    batch_size: int = Field(default=16, ge=1, le=4096)
    max_length: int = Field(default=128, ge=8, le=512)
    # Dynamic int8 quantisation of the encoder's Linear layers (CPU only): faster on CPUs with
    # int8 dot-product instructions, slightly less accurate.
    quantize: bool = False
    sentiment: SentimentSettings = SentimentSettings()
    complaint: ComplaintSettings = ComplaintSettings()
    harm: HarmSettings = HarmSettings()

    @model_validator(mode="after")
    def _quantize_on_cpu(self) -> ModelsConfig:
        if self.quantize and self.device != "cpu":
            raise ValueError("quantize = true works on device = \"cpu\" only (dynamic int8)")
        return self
