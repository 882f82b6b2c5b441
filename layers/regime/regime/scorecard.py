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


def _num(x: float | None, fmt: str = ".3f") -> str:
    return "n/a" if x is None else format(x, fmt)


def _calibration(name: str, rows: list[dict[str, Any]]) -> list[str]:
    cells = [
        f"{r['bin'][0]:.1f}-{r['bin'][1]:.1f}: {_num(r['observed'], '.2f')} (n={r['samples']})"
        for r in rows
        if r["samples"]
    ]
    return [f"  {name} calibration, predicted bin: observed positive rate (n)", "    " + "; ".join(cells)]


def scorecard_text(evaluation: dict[str, Any], title: str | None = None) -> str:
    """Render an evaluation (`regime.evaluation.score` or `walk_forward`) as text; `title` replaces the
    walk-forward heading (a held-out evaluation has no folds)."""
    ev = evaluation
    heading = title or (
        f"Walk-forward out-of-sample evaluation: {ev['samples']} decisions in {len(ev.get('folds', []))} "
        f"folds, {ev.get('gap_minutes', '?')}-minute gap before each test block"
    )
    lines = [heading, "", f"  {'model':<12}{'accuracy':>10}{'ROC AUC':>10}{'log loss':>10}"]
    for name, m in ev["models"].items():
        lines.append(f"  {name:<12}{_pct(m['accuracy']):>10}{m['auc']:>10.3f}{_num(m.get('log_loss')):>10}")
    lines += [
        "",
        f"  {'hemisphere':<12}{'accuracy':>10}{'95% CI':>16}{'base rate':>11}{'positive':>10}{'AUC':>8}"
        f"{'log loss':>10}{'base-rate LL':>14}",
    ]
    for name, h in ev["hemispheres"].items():
        ci = _ci(h["accuracy_ci95"]) if "accuracy_ci95" in h else "n/a"
        lines.append(
            f"  {name:<12}{_pct(h['accuracy']):>10}{ci:>16}{_pct(h['baseline']):>11}"
            f"{_pct(h['positive_rate']):>10}{h['auc_mean_prob']:>8.3f}"
            f"{_num(h.get('log_loss')):>10}{_num(h.get('base_rate_log_loss')):>14}"
        )
    for name, h in ev["hemispheres"].items():
        if "calibration" in h:
            lines += _calibration(name, h["calibration"])
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
