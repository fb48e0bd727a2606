"""Clustering of the candidate graph: ``(n, Pairs) -> labels`` with canonical numbering."""

from neardup.cluster._graph import canonical_labels
from neardup.cluster.agglomerative import agglomerative
from neardup.cluster.components import connected_components
from neardup.cluster.leiden import leiden, louvain
from neardup.cluster.representatives import choose_representatives

__all__ = [
    "agglomerative",
    "canonical_labels",
    "choose_representatives",
    "connected_components",
    "leiden",
    "louvain",
]
