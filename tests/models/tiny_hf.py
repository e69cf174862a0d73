"""Builds tiny randomly initialised BERT sequence classifiers on disk for backend tests."""

from __future__ import annotations

from pathlib import Path

WORDS = ["the", "service", "was", "great", "awful", "ok", "i", "love", "hate", "it", "my",
         "order", "never", "arrived", "a", "b", "c", "d", "e", "f", "g", "!", ".", ","]


def build_tiny_classifier(folder: Path, labels: list[str], *, seed: int = 0) -> Path:
    """Save a 2-layer, 32-wide BERT classifier with the given label names and a tiny vocab."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab), model_max_length=64)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=5 + len(WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64, num_labels=len(labels),
        id2label=dict(enumerate(labels)), label2id={name: i for i, name in enumerate(labels)},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
