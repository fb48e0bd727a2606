"""Candidate pairs: exact duplicates, MinHash LSH, character TF-IDF and embedding kNN."""

from neardup.candidates.exact import exact_groups, exact_pairs
from neardup.candidates.knn import Neighbors, cross_knn, knn_search
from neardup.candidates.lexical import char_tfidf, lexical_cross_knn, lexical_knn_pairs
from neardup.candidates.minhash import minhash_pairs, shingle_set

__all__ = [
    "Neighbors",
    "char_tfidf",
    "cross_knn",
    "exact_groups",
    "exact_pairs",
    "knn_search",
    "lexical_cross_knn",
    "lexical_knn_pairs",
    "minhash_pairs",
    "shingle_set",
]
