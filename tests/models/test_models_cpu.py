"""The CPU check that picks int8 or uint8 weights for the int8 graph."""

from __future__ import annotations

import pytest

from neardup.models import cpu


@pytest.fixture(autouse=True)
def _fresh_answer() -> object:
    cpu.int8_products_saturate.cache_clear()
    yield
    cpu.int8_products_saturate.cache_clear()


@pytest.mark.parametrize(
    ("machine", "flags", "saturates"),
    [
        ("x86_64", {"avx2", "fma"}, True),  # AVX2 only: vpmaddubsw's int16 sums clip
        ("x86_64", {"avx2", "avx512f", "avx512_vnni"}, False),
        ("x86_64", {"avx2", "avx_vnni"}, False),  # AVX-VNNI without AVX-512
        ("AMD64", {"avx2", "amx_int8"}, False),
        ("aarch64", set(), False),  # ARM dot products accumulate in int32
        ("arm64", None, False),
    ],
)
def test_saturation_follows_the_vnni_flags(
    monkeypatch: pytest.MonkeyPatch, machine: str, flags: set[str] | None, saturates: bool
) -> None:
    monkeypatch.setattr(cpu.platform, "machine", lambda: machine)
    monkeypatch.setattr(cpu, "_cpuinfo_flags", lambda: None if flags is None else frozenset(flags))
    assert cpu.int8_products_saturate() is saturates
    assert cpu.int8_weight_type() == ("QUInt8" if saturates else "QInt8")


def test_x86_without_cpuinfo_asks_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    numpy_core = pytest.importorskip("numpy._core._multiarray_umath")
    monkeypatch.setattr(cpu.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(cpu, "_cpuinfo_flags", lambda: None)
    features = dict(numpy_core.__cpu_features__)
    monkeypatch.setattr(numpy_core, "__cpu_features__", {**features, "AVX512VNNI": True})
    assert cpu.int8_products_saturate() is False
    cpu.int8_products_saturate.cache_clear()
    monkeypatch.setattr(numpy_core, "__cpu_features__", {**features, "AVX512VNNI": False})
    assert cpu.int8_products_saturate() is True
