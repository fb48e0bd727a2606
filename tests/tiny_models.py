"""A tiny sentence-transformers model built on the spot, so training tests need no download.

BERT with two layers of width 32 and a WordPiece vocabulary learnt from the texts given; it
loads as a `SentenceTransformer` (mean pooling, normalised) and as a `CrossEncoder` base.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterable

_EXTRA_WORDS = (
    "the a an and of to in is for on with new old red blue green black white phone case "
    "cable charger laptop shoes shirt bag watch book price sale 1 2 3 4 5 6 7 8 9 0 "
    "query passage кошка собака дом новый старый"
).split()


def make_tiny_st_model(path: Path, texts: Iterable[str] = (), *, seed: int = 0) -> Path:
    """Write a tiny BERT sentence-transformers folder at `path` and return it."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as models
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    path = Path(path)
    corpus = [*texts, " ".join(_EXTRA_WORDS)]
    # The vocabulary is every whole word of the corpus plus its characters (as word starts and
    # "##" continuations), in sorted order: tokenizers' WordPieceTrainer breaks count ties
    # differently from run to run, which made the tiny model, and tests that train it, vary.
    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words = sorted({w for text in corpus
                    for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text))})
    chars = sorted({c for w in words for c in w})
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab_list = [*specials, *chars, *(f"##{c}" for c in chars), *words]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(vocab_list))}
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.WordPiece()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    hf_dir = path / "_hf"
    BertModel(config).save_pretrained(hf_dir)
    fast.save_pretrained(hf_dir)
    transformer = models.Transformer(str(hf_dir), max_seq_length=64)
    pooling = models.Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu")
    model.save(str(path))
    shutil.rmtree(hf_dir)
    return path
