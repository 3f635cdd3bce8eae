"""Write the evaluation report: a Markdown table, JSON with every per-question result, a PNG chart."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["table", "write_report", "COLUMNS"]

COLUMNS = ("recall@1", "recall@5", "mrr@10", "containment", "first_containment", "cited_per_answer",
           "citation_precision", "false_abstention", "abstain_precision", "abstain_recall", "abstain_f1",
           "short_shown", "short_right", "short_exact", "latency_p50_ms", "latency_p95_ms")
_SHORT = {"citation_precision": "cit.prec", "answers_with_correct_citation": "ans.w/cit",
          "abstain_precision": "abst.P", "abstain_recall": "abst.R", "abstain_f1": "abst.F1",
          "latency_p50_ms": "p50 ms", "latency_p95_ms": "p95 ms", "containment": "contains",
          "first_containment": "1st.cont", "cited_per_answer": "cited", "false_abstention": "false.abst",
          "short_shown": "short.shown", "short_right": "short.right", "short_exact": "short.EM"}
_CHART = ("recall@5", "mrr@10", "containment", "citation_precision", "abstain_f1")


def _cell(name: str, value: float) -> str:
    return f"{value:.0f}" if name.endswith("_ms") else f"{value:.3f}"


def table(summaries: dict[str, dict[str, float]]) -> str:
    """A Markdown table, one row per variant (or variant/subset)."""
    head = "| variant | n | " + " | ".join(_SHORT.get(c, c) for c in COLUMNS) + " |"
    rule = "|" + "---|" * (len(COLUMNS) + 2)
    rows = [f"| {name} | {int(s['questions'])} | " + " | ".join(_cell(c, s[c]) for c in COLUMNS) + " |"
            for name, s in summaries.items()]
    return "\n".join([head, rule, *rows])


def _chart(summaries: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summaries)
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        xs = [j + i * width for j in range(len(_CHART))]
        ax.bar(xs, [summaries[name][m] for m in _CHART], width=width, label=name)
    ax.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(_CHART))], [_SHORT.get(m, m) for m in _CHART])
    ax.set_ylim(0, 1)
    ax.set_title("Retrieval variants on the evaluation set")
    ax.legend(loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(folder: Path, summaries: dict[str, dict[str, float]], details: dict[str, object],
                 notes: list[str], name: str = "report") -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"md": folder / f"{name}.md", "json": folder / f"{name}.json", "png": folder / f"{name}.png"}
    body = ["# Evaluation report", "", table(summaries), "", *notes, ""]
    paths["md"].write_text("\n".join(body), encoding="utf-8")
    paths["json"].write_text(json.dumps({"summary": summaries, **details}, ensure_ascii=False, indent=1), encoding="utf-8")
    _chart({k: v for k, v in summaries.items() if "/" not in k}, paths["png"])
    return paths
