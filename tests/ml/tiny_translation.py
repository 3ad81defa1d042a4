"""Tiny random translation models for the tests, built offline and loaded back through the real factory.

* a MarianMT (d=32, 2+2 layers) with a SentencePiece model trained here on a small Korean + English corpus;
* a Llama-architecture causal LM (d=32, 2 layers) with a byte-level BPE tokenizer trained here and a chat
  template.

Both are saved with ``save_pretrained`` and described by ``local-dir:`` cards. Random weights translate
nothing, but they do everything a real model does on the way: tokenise, generate, score, decode.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

from enrich.models.cards import ModelSpec

#: Catalogue-like Korean titles and their English renderings (the tokenizers' training text).
CORPUS = (
    ("백자 달항아리", "White porcelain moon jar"),
    ("청자 상감운학문 매병", "Celadon prunus vase with inlaid crane and cloud design"),
    ("조선 시대 목가구", "Wooden furniture of the Joseon dynasty"),
    ("고려 불화 수월관음도", "Goryeo Buddhist painting of Water-Moon Avalokiteshvara"),
    ("분청사기 철화 어문 항아리", "Buncheong jar with iron-painted fish design"),
    ("금동 미륵보살 반가사유상", "Gilt-bronze pensive bodhisattva"),
    ("나전 칠기 상자", "Lacquered box with mother-of-pearl inlay"),
    ("김홍도 풍속도 화첩", "Album of genre paintings by Kim Hong-do"),
)
#: A chat template in the common role-tag style; the tokenizer's special tokens delimit the turns.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def _corpus_lines() -> list[str]:
    return [text for pair in CORPUS for text in pair]


def _sentencepiece(work: Path, **special_ids: int) -> Path:
    """A unigram SentencePiece model (150 pieces) trained on :data:`CORPUS` in ``work``; ``special_ids`` as
    SentencePiece's trainer takes them (``bos_id=-1``…). Returns the ``.model`` file."""
    import sentencepiece as spm

    work.mkdir(parents=True, exist_ok=True)
    (work / "corpus.txt").write_text("\n".join(_corpus_lines() * 3), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(work / "corpus.txt"),
        model_prefix=str(work / "spm"),
        vocab_size=150,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
        **special_ids,
    )
    return work / "spm.model"


def tiny_marian_spec(
    tmp_dir: Path, seed: int = 0, max_new_tokens: int = 12, d_model: int = 32, **extra: object
) -> ModelSpec:
    """A random MarianMT ko→en (2+2 layers, ``d_model`` wide) with a SentencePiece model trained on :data:`CORPUS`."""
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    work = tmp_dir / "marian-build"
    target = tmp_dir / "tiny-marian"
    pieces = spm.SentencePieceProcessor(model_file=str(_sentencepiece(work, bos_id=-1, eos_id=-1, unk_id=0)))
    # Marian's layout: </s> 0, <unk> 1, the pieces, <pad> last (it also starts every decoder sequence).
    vocab = {"</s>": 0, "<unk>": 1}
    for index in range(pieces.get_piece_size()):
        vocab.setdefault(pieces.id_to_piece(index), len(vocab))
    vocab["<pad>"] = len(vocab)
    (work / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.copy(work / "spm.model", work / "source.spm")
    shutil.copy(work / "spm.model", work / "target.spm")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")
        tokenizer = MarianTokenizer(
            source_spm=str(work / "source.spm"), target_spm=str(work / "target.spm"), vocab=str(work / "vocab.json")
        )
    pad = vocab["<pad>"]
    config = MarianConfig(
        vocab_size=len(vocab),
        d_model=d_model,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=2 * d_model,
        decoder_ffn_dim=2 * d_model,
        max_position_embeddings=128,
        pad_token_id=pad,
        eos_token_id=0,
        decoder_start_token_id=pad,
        forced_eos_token_id=0,
    )
    torch.manual_seed(seed)
    MarianMTModel(config).save_pretrained(target)
    tokenizer.save_pretrained(target)
    return ModelSpec(
        name="tiny-marian-ko-en",
        kind="translation",
        source=f"local-dir:{target}",
        version="test",
        batch_size=32,
        preprocessing={"max_tokens": 64, "max_new_tokens": max_new_tokens},
        extra={"backend": "seq2seq", "family": "marian", "source_languages": ["ko"], "target_languages": ["en"]}
        | extra,
    )


def tiny_causal_spec(tmp_dir: Path, seed: int = 0, **extra: object) -> ModelSpec:
    """A random 2-layer Llama with a byte-level BPE trained on :data:`CORPUS` and a chat template."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    target = tmp_dir / "tiny-causal"
    specials = ["<|pad|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(_corpus_lines() * 3, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, pad_token="<|pad|>", eos_token="<|end|>", additional_special_tokens=specials[2:]
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=bpe.get_vocab_size(),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(target)
    tokenizer.save_pretrained(target)
    return ModelSpec(
        name="tiny-llama-translate",
        kind="translation",
        source=f"local-dir:{target}",
        version="test",
        batch_size=4,
        preprocessing={"max_tokens": 512, "max_new_tokens": 10},
        extra={"backend": "causal-lm", "system": "You translate catalogue records."} | extra,
    )


def tiny_nllb_spec(tmp_dir: Path, seed: int = 0) -> ModelSpec:
    """A random M2M100 architecture with an NLLB tokenizer (FLORES-200 language codes) on a SentencePiece
    model trained on :data:`CORPUS`: the ``nllb`` family's language handling, end to end."""
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    target = tmp_dir / "tiny-nllb"
    tokenizer = NllbTokenizer(vocab_file=str(_sentencepiece(tmp_dir / "nllb-build")))
    config = M2M100Config(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    M2M100ForConditionalGeneration(config).save_pretrained(target)
    tokenizer.save_pretrained(target)
    return ModelSpec(
        name="tiny-nllb",
        kind="translation",
        source=f"local-dir:{target}",
        version="test",
        batch_size=8,
        preprocessing={"max_tokens": 64, "max_new_tokens": 8},
        extra={"backend": "seq2seq", "family": "nllb"},
    )
