"""The evaluation as a terminal table: every score beside its baseline."""

from __future__ import annotations

from typing import Any


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def _ci(ci: list[float] | tuple[float, float]) -> str:
    return f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def _confusion(block: dict[str, Any], title: str) -> list[str]:
    cols = block["cols_predicted"]
    lines = [
        f"  {title} (rows: actual, columns: predicted)",
        "    " + " " * 10 + "".join(f"{c:>9}" for c in cols),
    ]
    for row, counts in zip(block["rows_actual"], block["counts"], strict=True):
        lines.append(f"    {row:<10}" + "".join(f"{n:>9}" for n in counts))
    return lines


def scorecard_text(evaluation: dict[str, Any]) -> str:
    """Render a walk-forward report (regime.evaluation.walk_forward) as text."""
    ev = evaluation
    lines = [
        f"Walk-forward out-of-sample evaluation: {ev['samples']} decisions in {len(ev.get('folds', []))} "
        f"folds, {ev.get('gap_minutes', '?')}-minute gap before each test block",
        "",
        f"  {'model':<12}{'accuracy':>10}{'ROC AUC':>10}",
    ]
    for name, m in ev["models"].items():
        lines.append(f"  {name:<12}{_pct(m['accuracy']):>10}{m['auc']:>10.3f}")
    lines += ["", f"  {'hemisphere':<12}{'accuracy':>10}{'baseline':>10}{'positive':>10}{'AUC':>8}"]
    for name, h in ev["hemispheres"].items():
        lines.append(
            f"  {name:<12}{_pct(h['accuracy']):>10}{_pct(h['baseline']):>10}"
            f"{_pct(h['positive_rate']):>10}{h['auc_mean_prob']:>8.3f}"
        )
    v = ev["vote"]
    share = ", ".join(f"{k} {_pct(x).strip()}" for k, x in v["share"].items())
    lines += [
        "",
        f"  final vote vs labels: {_pct(v['accuracy']).strip()} (95% CI {_ci(v['ci95'])}), "
        f"baseline {_pct(v['baseline']).strip()} (always '{v['baseline_guess']}')",
        f"  decisions: {share}",
        *_confusion(v["confusion"], "vote against labels ('both': trend and range labels, either counts)"),
    ]
    if "truth" in ev:
        t = ev["truth"]
        lines += [
            "",
            f"  final vote vs TRUE regime: {_pct(t['accuracy']).strip()} (95% CI {_ci(t['ci95'])}), "
            f"baseline {_pct(t['baseline']).strip()} (always '{t['baseline_guess']}'); "
            f"the labels themselves match the truth {_pct(t['labels_vs_truth']).strip()}",
            *_confusion(t["confusion"], "vote against the true regime"),
        ]
    return "\n".join(lines)
