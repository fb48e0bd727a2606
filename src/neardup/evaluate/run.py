"""``neardup evaluate``: measure the dedup pipeline on the user's labelled data.

* pairs (``text1, text2, label``): the pipeline's pair score for each pair; AP and the
  F1-maximising threshold for 0/1 labels, Spearman/Pearson for graded labels.
* groups (``text, label``): the whole pipeline (candidates, linking, clustering) is run once and
  the candidate graph is clustered at a sweep of thresholds; metrics are reported at the
  automatic threshold (what ``dedup`` does without labels) and at the best threshold.
* retrieval (BEIR folder): corpus as passages, queries as queries, nDCG@10, MAP@R, ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neardup.errors import InputError


@dataclass
class EvaluationReport:
    """Metrics of one evaluation run; ``best_threshold`` is for pairs and groups."""

    task: str
    n_items: int
    metrics: dict[str, float]
    primary_metric: str
    best_threshold: float | None = None
    sweep: list[dict[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "n_items": self.n_items,
            "primary_metric": self.primary_metric,
            "best_threshold": self.best_threshold,
            "metrics": self.metrics,
            "sweep": self.sweep,
        }


def detect_task(path: Path, fmt: str | None = None) -> str:
    """Guess pairs / groups / retrieval from the path and the columns."""
    if path.is_dir():
        return "retrieval"
    from neardup.io import read_table

    columns = set(read_table(path, fmt).columns)
    if {"text1", "text2", "label"} <= columns:
        return "pairs"
    if {"text", "label"} <= columns:
        return "groups"
    raise InputError(
        f"{path}: cannot tell the task from its columns {sorted(columns)}; expected "
        "text1,text2,label (pairs) or text,label (groups), or a BEIR folder; pass --task and "
        "the column options"
    )


def run_evaluation(
    data: str | Path,
    *,
    task: str = "auto",
    model: str | None = "multilingual-e5-small",
    scorer: str = "default",
    cluster: str = "agglomerative",
    fmt: str | None = None,
    text_col: str | None = None,
    text2_col: str | None = None,
    label_col: str | None = None,
    n_thresholds: int = 41,
    show_progress: bool = False,
) -> EvaluationReport:
    from neardup.dedup import Deduplicator

    path = Path(data)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if task == "auto":
        task = detect_task(path, fmt)
    unused = {
        "pairs": [("--method", cluster != "agglomerative")],
        "groups": [("--text2", text2_col is not None)],
        "retrieval": [("--text", text_col is not None), ("--text2", text2_col is not None),
                      ("--label", label_col is not None), ("--scorer", scorer != "default"),
                      ("--method", cluster != "agglomerative")],
    }.get(task, [])
    for flag, given in unused:
        if given:
            # silently ignoring it would report metrics the user did not ask for
            raise InputError(f"{flag} has no effect on a {task} evaluation of {path}: drop it.")
    dd = Deduplicator(model, scorer=scorer, cluster=cluster, show_progress=show_progress)
    if task == "pairs":
        return _pairs(path, dd, text_col or "text1", text2_col or "text2", label_col or "label",
                      fmt)
    if task == "groups":
        return _groups(path, dd, text_col or "text", label_col or "label", n_thresholds, fmt)
    if task == "retrieval":
        if model is None:
            raise InputError("retrieval evaluation needs a model; drop --model none")
        return _retrieval(path, model)
    raise InputError(f"unknown task {task!r}; choose pairs, groups or retrieval")


def _pairs(path: Path, dd, c1: str, c2: str, cl: str, fmt: str | None) -> EvaluationReport:
    from neardup.evaluate.data import load_pairs
    from neardup.evaluate.metrics import pair_metrics, pearson, spearman

    data = load_pairs(path, text1_col=c1, text2_col=c2, label_col=cl, fmt=fmt)
    _check_measurable(path, cl, data.labels, data.label_kind)
    scores = dd.score_pairs(data.texts1, data.texts2)
    if data.label_kind == "graded":
        metrics = {
            "spearman": spearman(data.labels, scores),
            "pearson": pearson(data.labels, scores),
        }
        return EvaluationReport("pairs", len(data), metrics, "spearman")
    m = pair_metrics(data.labels, scores)
    metrics = {k: float(v) for k, v in m.as_dict().items()}
    carried = readable_threshold(float(m.threshold), np.asarray(scores, dtype=np.float64))
    # a cut at or below 0 (every pair a duplicate) is no setting for dedup, which refuses it
    return EvaluationReport("pairs", len(data), metrics, "ap",
                            best_threshold=carried if carried > 0 else None)


def readable_threshold(threshold: float, scores: np.ndarray) -> float:
    """The shortest decimal that makes the same cut as ``threshold`` on ``scores``: above
    every score below the threshold, and not above the threshold itself. Rounding the
    printed value to nearest instead can land above the best pair's score, and the F1
    printed beside it is then not what ``--threshold`` gives."""
    below = scores[scores < threshold]
    lower = float(below.max()) if below.size else -np.inf
    for places in range(2, 10):
        value = math.floor(threshold * 10**places) / 10**places
        if lower < value <= threshold:
            return value
    return threshold


def _check_measurable(path: Path, column: str, labels: np.ndarray, kind: str) -> None:
    """Refuse labels no metric can be computed from, before any model work: AP and a best-F1
    threshold need both classes, a correlation needs two different grades."""
    values = np.unique(labels)
    if kind == "graded" and values.size < 2:
        raise InputError(
            f"{path}, column {column!r}: every label is {values[0]:g}; a correlation needs "
            "pairs with different similarity grades."
        )
    if kind != "graded" and values.size < 2:
        missing = "duplicate (1)" if values.size == 0 or values[0] == 0 else "non-duplicate (0)"
        raise InputError(
            f"{path}, column {column!r}: no {missing} pair; precision, recall, AP and the "
            "best threshold need pairs of both labels."
        )


def _threshold_grid(scores: np.ndarray, n: int, auto: float) -> np.ndarray:
    from neardup.evaluate.thresholds import threshold_grid

    grid = np.asarray(threshold_grid(scores, n), dtype=np.float64) if scores.size else np.zeros(0)
    if np.isfinite(auto):
        grid = np.append(grid, auto)
    if scores.size:
        # merging nothing is a choice too (the best one for a file without duplicates)
        above = math.floor(float(np.max(scores)) * 1e4) / 1e4 + 1e-4
        if above <= 1.0:
            grid = np.append(grid, above)
    grid = np.unique(np.round(grid, 4))
    # a threshold at or below 0 would link rows that were never candidates
    return grid[grid > 0]


def sweep_group_thresholds(dd, graph, labels: np.ndarray, n_thresholds: int,
                           extra: float = float("nan")) -> list[dict[str, float]]:
    """Cluster ``graph`` (from ``dd.candidate_graph``) at each threshold of a grid over its
    scores (plus ``extra`` when finite) and measure the clusters against ``labels``: one row
    of cluster metrics per threshold, lowest threshold first."""
    from neardup.evaluate.metrics import cluster_metrics

    rows = []
    for t in _threshold_grid(graph.scored.score, n_thresholds, extra):
        m = cluster_metrics(labels, dd.cluster_graph(graph, float(t)))
        rows.append({"threshold": float(t), **{k: float(v) for k, v in _as_dict(m).items()}})
    return rows


def middle_of_best(sweep: list[dict[str, float]], metric: str,
                   then: str | None = "row_f1") -> dict[str, float]:
    """The row in the middle of those tied at the best ``metric``: the loosest of them sits at
    the edge where one more merge costs F1 on a collection only slightly different. Rows
    tied at ``metric`` are narrowed by ``then`` first (a file with no duplicates has pair F1
    0 at every threshold; row-F1 still prefers merging nothing)."""
    top = max(row[metric] for row in sweep)
    tied = [row for row in sweep if row[metric] >= top - 1e-12]
    if then is not None and all(then in row for row in tied):
        second = max(row[then] for row in tied)
        tied = [row for row in tied if row[then] >= second - 1e-12]
    return tied[len(tied) // 2]


def _groups(path: Path, dd, text_col: str, label_col: str, n_thresholds: int,
            fmt: str | None) -> EvaluationReport:
    from neardup.evaluate.data import load_groups
    from neardup.evaluate.metrics import cluster_metrics

    data = load_groups(path, text_col=text_col, label_col=label_col, fmt=fmt)
    graph = dd.candidate_graph(data.texts)
    if len(graph.scored):
        auto = dd.graph_threshold(graph)  # what dedup would link this collection at
    else:
        auto = None
    auto_value = auto.value if auto is not None else float("nan")
    sweep = sweep_group_thresholds(dd, graph, data.labels, n_thresholds, auto_value)
    best = middle_of_best(sweep, "pair_f1") if sweep else None
    metrics: dict[str, float] = {}
    if auto is not None:
        m_auto = cluster_metrics(data.labels, dd.cluster_graph(graph, auto_value))
        metrics.update({f"{k}@auto": float(v) for k, v in _as_dict(m_auto).items()})
        metrics["threshold@auto"] = auto_value
    if best is not None:
        metrics.update({f"{k}@best": v for k, v in best.items() if k != "threshold"})
        metrics["threshold@best"] = best["threshold"]
    else:
        singletons = np.arange(len(data.texts))
        metrics.update({k: float(v) for k, v in _as_dict(cluster_metrics(data.labels, singletons)).items()})
    return EvaluationReport(
        "groups", len(data), metrics, "row_f1@auto" if auto is not None else "row_f1",
        best_threshold=best["threshold"] if best else None, sweep=sweep,
    )


def _as_dict(m: Any) -> dict[str, float]:
    if hasattr(m, "as_dict"):
        return m.as_dict()
    from dataclasses import asdict

    return asdict(m)


def _retrieval(path: Path, model: str) -> EvaluationReport:
    from neardup.evaluate.data import load_beir
    from neardup.evaluate.evaluators import RetrievalEvaluator
    from neardup.models import load_encoder

    data = load_beir(path)
    evaluator = RetrievalEvaluator.from_data(data)
    result = evaluator(load_encoder(model))
    metrics = {k: float(v) for k, v in result.items()}
    # queries without a relevant document are not measured: count only those that are
    n = int(metrics.get("n_queries", len(data.queries)))
    return EvaluationReport("retrieval", n, metrics, getattr(result, "primary_metric", "ndcg@10"))
