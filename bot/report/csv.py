"""The board report as CSV: one row per figure (section, item, value, note).

Same figures as the HTML, for a spreadsheet: aggregates only, hidden groups as
an empty value with the note "fewer than 5: not shown". UTF-8 with a BOM so
that Excel reads the umlauts.
"""

from __future__ import annotations

import csv
import io

from bot.core.config import AppConfig
from bot.core.i18n import t
from conversations.figures import Figures
from conversations.reporting import month_label
from conversations.summary import topic_labels

Row = tuple[str, str, str, str]


def render(config: AppConfig, f: Figures, language: str) -> bytes:
    hidden = t(language, "report.csv.hidden", k=f.min_group)

    def value(number: float | None, digits: int = 0) -> tuple[str, str]:
        if number is None:
            return "", hidden
        return (f"{number:.{digits}f}" if digits else str(round(number))), ""

    section = {name: t(language, f"report.csv.{name}") for name in (
        "overview", "month", "topic_chosen", "topic_discussed", "rating", "funnel",
        "evaluation")}
    rows: list[Row] = [(t(language, "report.csv.section"), t(language, "report.csv.item"),
                        t(language, "report.csv.value"), t(language, "report.csv.note"))]
    overview = [
        (t(language, "figures.signups"), f.signups),
        (t(language, "role.mentor"), f.role("mentor")),
        (t(language, "role.mentee"), f.role("mentee")),
        (t(language, "figures.left"), f.left),
        (t(language, "figures.tandems"), f.tandems),
        (t(language, "figures.meetings"), f.meetings),
        (t(language, "figures.stalled", months=config.rhythm.stalled_after_periods),
         f.stalled),
        (t(language, "figures.unreachable"), f.unreachable),
    ]
    rows += [(section["overview"], label, str(n), "") for label, n in overview]
    rows.append((section["overview"], t(language, "figures.usefulness"),
                 *value(f.ratings.average, 2)))
    for m in f.months:
        if m.started:
            rows.append((section["month"], month_label(m.first_day, language),
                         *value(m.meetings)))
    for tp in f.topics:
        label = topic_labels(config, [tp.topic_id], language)
        rows.append((section["topic_chosen"], label, *value(tp.chosen)))
        rows.append((section["topic_discussed"], label, *value(tp.discussed)))
    distribution = f.ratings.distribution
    for stars in range(1, 6):
        rows.append((section["rating"], str(stars),
                     *value(distribution[stars - 1] if distribution else None)))
    rows += [(section["funnel"], t(language, f"figures.funnel.{stage}"), str(n), "")
             for stage, n in f.funnel]
    e = f.evaluation
    rows.append((section["evaluation"], t(language, "figures.evaluation.respondents"),
                 str(e.respondents), ""))
    rows.append((section["evaluation"], t(language, "figures.evaluation.average"),
                 *value(e.average, 2)))
    rows.append((section["evaluation"], t(language, "figures.evaluation.recommend"),
                 *value(e.recommend_percent)))
    for index, choice in enumerate(("same", "new", "no")):
        rows.append((section["evaluation"], t(language, f"report.evaluation.continue.{choice}"),
                     *value(e.continue_counts[index] if e.continue_counts else None)))
    for index, fit in enumerate(("yes", "unsure", "no")):
        rows.append((section["evaluation"], t(language, f"fit.report.{fit}"),
                     *value(f.fit.counts[index] if f.fit.counts else None)))
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")
