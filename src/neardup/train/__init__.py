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

# Cross-encoder re-rankers (neardup.train.cross_encoder); importing it does not import torch.
from neardup.train.cross_encoder import (  # noqa: E402
    CrossEncoderOptions,
    CrossEncoderTrainResult,
    train_cross_encoder,
)

__all__ += ["CrossEncoderOptions", "CrossEncoderTrainResult", "train_cross_encoder"]

# Bi-encoder fine-tuning (neardup.train.bi_encoder); importing it does not import torch.
from neardup.train.bi_encoder import (  # noqa: E402
    BiEncoderOptions,
    BiEncoderTrainResult,
    train_bi_encoder,
)

__all__ += ["BiEncoderOptions", "BiEncoderTrainResult", "train_bi_encoder"]
