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
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
    from tokenizers.models import WordPiece
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    path = Path(path)
    corpus = [*texts, " ".join(_EXTRA_WORDS)]
    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(
        vocab_size=600, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    )
    tok.train_from_iterator(corpus, trainer=trainer)
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
