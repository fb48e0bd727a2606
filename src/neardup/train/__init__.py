"""Training on the user's labelled data: a learned pair scorer (:mod:`neardup.train.scorer`)."""

from neardup.train.scorer import (
    LearnedPairScorer,
    PairFeatures,
    SplitScores,
    TrainReport,
    is_scorer_folder,
    train_pair_scorer,
)

__all__ = [
    "LearnedPairScorer",
    "PairFeatures",
    "SplitScores",
    "TrainReport",
    "is_scorer_folder",
    "train_pair_scorer",
]
