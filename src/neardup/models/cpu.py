"""What the CPU does to int8 matrix products, which decides how an int8 graph is quantised.

onnxruntime's dynamic quantisation multiplies uint8 activations by the weights. With int8
(signed) weights, x86 CPUs without VNNI compute the products with ``vpmaddubsw``, whose
pairwise sums are int16 and saturate: large activations times large weights clip, and the
vectors drift. multilingual-e5-small on an AMD EPYC with AVX2 and no VNNI (2026-12-02), against
torch float32 (STS-B ru test Spearman 75.63, ParaPhraser AP 0.9379):

    int8 weights          min cosine 0.984  STS-B ru 74.66  AP 0.9360  224 texts/s
    int8, reduce_range    min cosine 0.996  STS-B ru 75.10  AP 0.937   225 texts/s
    uint8 weights         min cosine 0.996  STS-B ru 75.29  AP 0.9374  194 texts/s

(torch: 133 texts/s; cosines over 222 varied texts, ``benchmarks/encoders.py``'s fidelity set).
Only uint8 weights keep the loss within the 0.5 points the project allows, at 13 % less speed;
reduce_range (7-bit weights) runs at full speed but loses 0.53. VNNI's ``vpdpbusd``
(AVX512-VNNI, AVX-VNNI) accumulates in int32 and does not saturate; neither do ARM's
dot-product instructions. onnxruntime's documentation gives the same advice: uint8 weights
(or ``reduce_range``) on x86 without VNNI.
"""

from __future__ import annotations

import functools
import platform

# /proc/cpuinfo flag names of the instructions that multiply u8 by s8 without saturating.
_VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})
_X86 = frozenset({"x86_64", "amd64", "i386", "i686", "x86"})


@functools.cache
def int8_products_saturate() -> bool:
    """Whether uint8 x int8 products can saturate on this CPU (x86 without VNNI).

    Read from ``/proc/cpuinfo`` on Linux, else from numpy's CPU feature table (AVX512-VNNI
    only). When neither answers on x86, the answer is yes: uint8 weights are as fast there
    and exact everywhere, so the cautious choice costs nothing.
    """
    if platform.machine().lower() not in _X86:
        return False
    flags = _cpuinfo_flags()
    if flags is not None:
        return not (flags & _VNNI_FLAGS)
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # pragma: no cover - numpy < 2
        return True
    return not features.get("AVX512VNNI", False)


def _cpuinfo_flags() -> frozenset[str] | None:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        return None
    return None


def int8_weight_type() -> str:
    """The onnxruntime weight type that quantises exactly on this CPU: QInt8 or QUInt8."""
    return "QUInt8" if int8_products_saturate() else "QInt8"
