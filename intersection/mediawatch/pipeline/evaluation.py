"""Precision and recall of duplicate detection on labelled pairs (JSON lines).

Each input line is one pair: {"a_title", "a_text", "a_url", "b_title", "b_text", "b_url",
"label"} with label "duplicate" or "distinct". Titles and URLs may be missing or null; texts
are required; other keys are ignored. Blank lines are skipped.

    .venv/bin/python -m intersection.mediawatch.pipeline.evaluation \\
        intersection/mediawatch/data/duplicates.jsonl | tail -1
"""

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from typing import Any

from .dedup import Document, Thresholds, compare

LABELS = ("duplicate", "distinct")


def _field(record: dict[str, Any], name: str, number: int, *, required: bool) -> str:
    value = record.get(name)
    if value is None:
        if required:
            raise ValueError(f"line {number}: missing {name}")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"line {number}: {name} must be a string, not {type(value).__name__}")
    return value


def parse_pair(line: str, number: int) -> tuple[Document, Document, str]:
    """The two documents and the label of one line; ValueError naming the line otherwise."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"line {number}: invalid JSON: {error.msg} (column {error.colno})"
        ) from None
    if not isinstance(record, dict):
        raise ValueError(f"line {number}: expected a JSON object, got {type(record).__name__}")
    if "label" not in record:
        raise ValueError(f"line {number}: missing label")
    label = record["label"]
    if label not in LABELS:
        raise ValueError(f"line {number}: label must be 'duplicate' or 'distinct', not {label!r}")
    documents = [
        Document(
            title=_field(record, f"{side}_title", number, required=False),
            text=_field(record, f"{side}_text", number, required=True),
            url=_field(record, f"{side}_url", number, required=False),
        )
        for side in "ab"
    ]
    return documents[0], documents[1], label


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def evaluate(lines: Iterable[str], thresholds: Thresholds | None = None) -> Iterator[str]:
    """One JSON line per pair ({"index", "label", "decision", "similarity", "reason"}, index
    being the 1-based line number), then one with precision, recall, F1 and the counts.

    Lazy: a bad line raises ValueError when it is reached, after the lines before it."""
    limits = thresholds or Thresholds()
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        a, b, label = parse_pair(line, number)
        decision = compare(a, b, limits)
        predicted = "duplicate" if decision.duplicate else "distinct"
        outcome = ("t" if predicted == label else "f") + ("p" if decision.duplicate else "n")
        counts[outcome] += 1
        yield json.dumps(
            {
                "index": number,
                "label": label,
                "decision": predicted,
                "similarity": round(decision.similarity, 4),
                "reason": decision.reason,
            }
        )
    precision = _ratio(counts["tp"], counts["tp"] + counts["fp"])
    recall = _ratio(counts["tp"], counts["tp"] + counts["fn"])
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0
    settings = {k: str(v) if k == "window" else v for k, v in asdict(limits).items()}
    yield json.dumps(
        {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "counts": counts,
            "pairs": sum(counts.values()),
            "thresholds": settings,
        }
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Precision and recall of duplicate detection on labelled pairs."
    )
    parser.add_argument("file", help="labelled pairs, JSON lines")
    defaults = Thresholds()
    parser.add_argument("--max-distance", type=int, default=defaults.max_distance)
    parser.add_argument("--min-overlap", type=float, default=defaults.min_overlap)
    parser.add_argument("--title-min-overlap", type=float, default=defaults.title_min_overlap)
    parser.add_argument("--shingle-size", type=int, default=defaults.shingle_size)
    parser.add_argument("--no-figures", action="store_true", help="ignore differing figures")
    options = parser.parse_args(argv)
    thresholds = Thresholds(
        max_distance=options.max_distance,
        min_overlap=options.min_overlap,
        title_min_overlap=options.title_min_overlap,
        shingle_size=options.shingle_size,
        check_figures=not options.no_figures,
    )
    try:
        with open(options.file, encoding="utf-8") as lines:
            for line in evaluate(lines, thresholds):
                print(line)
    except BrokenPipeError:  # `| head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError) as error:
        print(f"{options.file}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
