"""A tiny random text-to-image pipeline for offline tests: a diffusers StableDiffusionPipeline (tiny UNet,
AutoencoderKL and CLIP text model, the real CLIP BPE from open_clip) saved with ``save_pretrained`` and
described by a ``local-dir:`` card, so tests load it through the same factory as a real model."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from enrich.models.cards import ModelSpec

#: 32 x 32 images in two steps: a few hundredths of a second per image on one CPU core.
TINY_SIZE = 32
TINY_STEPS = 2
TINY_SEED = 1234


def clip_tokenizer_files(folder: Path) -> Path:
    """The CLIP BPE table that ships inside open_clip, as the ``vocab.json`` + ``merges.txt`` a transformers
    ``CLIPTokenizer`` reads (open_clip's own construction: byte symbols, the same with ``</w>``, the merges,
    then the two special tokens)."""
    import open_clip.tokenizer as oct

    with gzip.open(oct.default_bpe()) as handle:
        lines = handle.read().decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1 : 49152 - 256 - 2 + 1]]
    symbols = list(oct.bytes_to_unicode().values())
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}), encoding="utf-8")
    (folder / "merges.txt").write_text(
        "#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n", encoding="utf-8"
    )
    return folder


def tiny_diffusion_spec(tmp_dir: Path, seed: int = 0, **extra: object) -> ModelSpec:
    """Build, save and describe the tiny pipeline; ``extra`` overrides the card's generation settings."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(seed)
    tokenizer = CLIPTokenizer.from_pretrained(str(clip_tokenizer_files(tmp_dir / "bpe")))
    tokenizer.model_max_length = 77  # the SD pipeline overflows without it (ML-NOTES)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=TINY_SIZE // 2,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(32, 64),
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        sample_size=TINY_SIZE,
    )
    pipeline = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=DDIMScheduler(
            beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False, steps_offset=1
        ),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    folder = tmp_dir / "pipeline"
    pipeline.save_pretrained(str(folder))
    settings: dict[str, object] = {
        "negative_prompt": "blurry, text, watermark",
        "steps": TINY_STEPS,
        "guidance": 5.0,
        "seed": TINY_SEED,
        "width": TINY_SIZE,
        "height": TINY_SIZE,
        **extra,
    }
    return ModelSpec(
        name="tiny-diffusion",
        kind="text-to-image",
        source=f"local-dir:{folder}",
        batch_size=4,
        dtype="float32",
        device="cpu",
        extra=settings,
    )
