"""A small word + character BiLSTM sentence encoder, trained from scratch.

For domains where no pre-trained transformer fits (short product codes, a language the
presets do not cover) or where a few megabytes and a fast CPU encoder matter more than
quality. It is a sentence-transformers pipeline, so the training losses, the trainer and
neardup's loader treat it like any other model:

1. :class:`WordCharEmbedding` (this module) — lower-cased ``\\w+`` words and single symbols;
   each token is its word vector (vocabulary learnt from the training texts, unknown words
   share one vector) concatenated with a character CNN over its first ``max_word_length``
   characters, so unseen words and typos still get a meaningful vector.
2. sentence-transformers' ``LSTM`` (bidirectional) over the token vectors.
3. ``Pooling`` (mean over tokens) and ``Normalize``.

Expect it to trail a pre-trained transformer on open-domain text: it only knows what the
training data taught it.

The folder records the class ``neardup.train.bilstm.WordCharEmbedding``; sentence-transformers
imports classes from outside its own package only with ``trust_remote_code=True``
(``SentenceTransformer(folder, trust_remote_code=True)``: the code comes from the installed
neardup, not from the folder). ``neardup.models.load_encoder(folder)`` does this by itself for
folders whose only foreign classes are neardup's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from neardup.errors import require

__all__ = ["WordCharEmbedding", "build_bilstm_model"]

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_PAD, _UNK = 0, 1

try:  # sentence-transformers is optional; the module class needs it only when used
    from sentence_transformers.sentence_transformer.modules import InputModule as _InputModule
except ImportError:  # pragma: no cover - exercised only without the train extra
    _InputModule = nn.Module  # type: ignore[assignment,misc]


def tokenize(text: str) -> list[str]:
    """Lower-cased words (``\\w+``) and single non-space symbols, in order."""
    return _TOKEN.findall(text.casefold())


class WordCharEmbedding(_InputModule):  # type: ignore[misc,valid-type]
    """Token vectors: a word embedding concatenated with a max-pooled character CNN.

    ``vocab`` and ``chars`` list the known words and characters (ids start at 2: 0 is
    padding, 1 unknown). Output ``token_embeddings`` have
    ``word_dim + char_filters`` dimensions, with ``sentence_lengths`` for the LSTM.
    """

    config_keys = ["vocab", "chars", "word_dim", "char_dim", "char_filters",
                   "max_seq_length", "max_word_length"]
    config_file_name = "word_char_config.json"

    def __init__(
        self,
        vocab: Sequence[str],
        chars: Sequence[str],
        word_dim: int = 64,
        char_dim: int = 16,
        char_filters: int = 32,
        max_seq_length: int = 128,
        max_word_length: int = 20,
    ) -> None:
        super().__init__()
        self.vocab = list(vocab)
        self.chars = list(chars)
        self.word_dim = word_dim
        self.char_dim = char_dim
        self.char_filters = char_filters
        self.max_seq_length = max_seq_length
        self.max_word_length = max_word_length
        self._word_ids = {w: i + 2 for i, w in enumerate(self.vocab)}
        self._char_ids = {c: i + 2 for i, c in enumerate(self.chars)}
        self.words = nn.Embedding(len(self.vocab) + 2, word_dim, padding_idx=_PAD)
        self.char_embedding = nn.Embedding(len(self.chars) + 2, char_dim, padding_idx=_PAD)
        self.char_cnn = nn.Conv1d(char_dim, char_filters, kernel_size=3, padding=1)

    def get_embedding_dimension(self) -> int:
        return self.word_dim + self.char_filters

    def preprocess(self, inputs: Sequence[str], prompt: str | None = None,
                   **kwargs: Any) -> dict[str, Tensor]:
        texts = [prompt + t for t in inputs] if prompt else list(inputs)
        tokens = [tokenize(t)[: self.max_seq_length] for t in texts]
        # One padding column at least, so empty texts still make a (zero) batch.
        width = max(1, max((len(t) for t in tokens), default=0))
        word_ids = torch.zeros((len(texts), width), dtype=torch.long)
        char_ids = torch.zeros((len(texts), width, self.max_word_length), dtype=torch.long)
        for row, words in enumerate(tokens):
            for col, word in enumerate(words):
                word_ids[row, col] = self._word_ids.get(word, _UNK)
                ids = [self._char_ids.get(c, _UNK) for c in word[: self.max_word_length]]
                char_ids[row, col, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        lengths = torch.tensor([len(t) for t in tokens], dtype=torch.long)
        mask = (torch.arange(width)[None, :] < lengths[:, None]).long()
        return {"input_ids": word_ids, "char_ids": char_ids, "attention_mask": mask,
                "sentence_lengths": lengths}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        word_ids, char_ids = features["input_ids"], features["char_ids"]
        batch, width, chars = char_ids.shape
        flat = self.char_embedding(char_ids.view(batch * width, chars)).transpose(1, 2)
        conv = torch.relu(self.char_cnn(flat))
        # Max over real characters only: padding positions would otherwise win with the bias.
        char_mask = (char_ids.view(batch * width, 1, chars) != _PAD)
        pooled = conv.masked_fill(~char_mask, float("-inf")).max(dim=2).values
        pooled = torch.where(torch.isfinite(pooled), pooled, torch.zeros_like(pooled))
        tokens = torch.cat([self.words(word_ids), pooled.view(batch, width, -1)], dim=-1)
        features["token_embeddings"] = tokens * features["attention_mask"].unsqueeze(-1)
        return features

    def save(self, output_path: str, *args: Any, safe_serialization: bool = True,
             **kwargs: Any) -> None:
        self.save_config(output_path)
        self.save_torch_weights(output_path, safe_serialization=safe_serialization)

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", token: bool | str | None = None,
             cache_folder: str | None = None, revision: str | None = None,
             local_files_only: bool = False, **kwargs: Any) -> WordCharEmbedding:
        hub = {"subfolder": subfolder, "token": token, "cache_folder": cache_folder,
               "revision": revision, "local_files_only": local_files_only}
        module = cls(**cls.load_config(model_name_or_path, **hub))
        return cls.load_torch_weights(model_name_or_path, model=module, **hub)


def _vocabulary(
    texts: Iterable[str], max_words: int, min_count: int
) -> tuple[list[str], list[str]]:
    words: Counter[str] = Counter()
    chars: Counter[str] = Counter()
    for text in texts:
        for word in tokenize(text):
            words[word] += 1
            chars.update(word)
    vocab = [w for w, c in words.most_common(max_words) if c >= min_count]
    return vocab, sorted(chars)


def build_bilstm_model(
    texts: Iterable[str],
    *,
    word_dim: int = 64,
    char_dim: int = 16,
    char_filters: int = 32,
    hidden_dim: int = 64,
    max_words: int = 50_000,
    min_count: int = 1,
    max_seq_length: int = 128,
    seed: int = 0,
    device: str | None = None,
) -> Any:
    """A freshly initialised word+char BiLSTM SentenceTransformer with a vocabulary from
    ``texts`` (the ``max_words`` most frequent words seen at least ``min_count`` times).
    Sentence embeddings have ``2 * hidden_dim`` dimensions."""
    require("sentence_transformers", "train", "The BiLSTM encoder")
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import LSTM, Normalize, Pooling

    vocab, chars = _vocabulary(texts, max_words, min_count)
    torch.manual_seed(seed)
    embed = WordCharEmbedding(vocab, chars, word_dim=word_dim, char_dim=char_dim,
                              char_filters=char_filters, max_seq_length=max_seq_length)
    lstm = LSTM(embed.get_embedding_dimension(), hidden_dim, bidirectional=True)
    pooling = Pooling(lstm.get_embedding_dimension(), pooling_mode="mean")
    return SentenceTransformer(modules=[embed, lstm, pooling, Normalize()], device=device)
