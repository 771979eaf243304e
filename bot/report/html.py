"""The board report as one self-contained HTML file: inline CSS and SVG, nothing fetched.

It shows the programme's aggregates only (``conversations.figures.Figures``):
no names and no reflection text ever reach it, and small groups read
"fewer than 5". A strict Content-Security-Policy forbids any request, so even a
mail client or browser that opens it stays offline.
"""

from __future__ import annotations

from html import escape

from bot.core.config import AppConfig
from bot.core.i18n import t
from bot.report import charts
from conversations.figures import Figures
from conversations.reporting import month_label, number, percent
from conversations.summary import format_day, topic_labels

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
:root { --ink:#1d2433; --muted:#5f6b7a; --line:#e3e7ee; --primary:#1f5f8b; --paper:#fff; }
* { box-sizing: border-box; }
html { background: #f3f5f8; }
body { margin: 0 auto; max-width: 880px; padding: 48px 56px 40px; background: var(--paper);
  color: var(--ink); font: 15px/1.55 "Source Sans 3", "Segoe UI", "Helvetica Neue", Arial,
  "DejaVu Sans", sans-serif; font-feature-settings: "tnum" 1;
  -webkit-font-smoothing: antialiased; }
header { border-bottom: 3px solid var(--primary); padding-bottom: 18px; margin-bottom: 28px; }
.eyebrow { text-transform: uppercase; letter-spacing: .12em; font-size: 12px;
  color: var(--primary); font-weight: 700; margin: 0 0 6px; }
h1 { font-size: 30px; line-height: 1.2; margin: 0 0 6px; letter-spacing: -.01em; }
.sub { color: var(--muted); margin: 0; }
h2 { font-size: 19px; margin: 36px 0 4px; letter-spacing: -.005em; }
.note { color: var(--muted); font-size: 13px; margin: 0 0 12px; }
.kpis { display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; margin: 0; }
.kpi { border: 1px solid var(--line); border-radius: 10px; padding: 14px 14px 12px; }
.kpi dt { font-size: 12px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .06em; }
.kpi dd { margin: 4px 0 0; }
.kpi .value { display: block; font-size: 28px; font-weight: 700; color: var(--primary);
  line-height: 1.15; }
.kpi .detail { display: block; font-size: 12px; color: var(--muted); margin-top: 2px; }
.chart { display: block; margin: 6px 0 0; font-family: inherit; }
section { break-inside: avoid; }
table { border-collapse: collapse; width: 100%; margin-top: 8px; font-size: 14px; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); }
td.num { text-align: right; font-weight: 600; }
.privacy { margin-top: 40px; padding: 14px 18px; background: #f5f7fa; border-radius: 10px;
  font-size: 13px; color: var(--muted); }
.privacy strong { color: var(--ink); }
footer { margin-top: 24px; font-size: 12px; color: var(--muted); }
@page { size: A4; margin: 16mm; }
@media print { html { background: none; } body { padding: 0; max-width: none; } }
@media (max-width: 720px) { body { padding: 24px; } .kpis { grid-template-columns: 1fr 1fr; } }
"""


def render(config: AppConfig, f: Figures, language: str) -> str:
    k = f.min_group
    hidden = t(language, "report.chart.hidden", k=k)
    empty = t(language, "report.chart.empty")
    title = t(language, "report.title", programme=config.programme_name)
    as_of = format_day(f.as_of.astimezone(config.timezone), language)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{language}"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)} · {escape(f.round_name)}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<header>",
        f'<p class="eyebrow">{escape(t(language, "report.as_of", date=as_of))}</p>',
        f"<h1>{escape(title)}</h1>",
        '<p class="sub">' + escape(t(language, "report.subtitle", round=f.round_name,
                                     starts=format_day(f.starts, language),
                                     ends=format_day(f.ends, language))) + "</p>",
        "</header>",
        _kpis(f, language),
        _section("meetings", t(language, "report.chart.meetings"),
                 t(language, "report.chart.meetings_note"),
                 _meetings_chart(f, language) + _meetings_table(f, language)),
        _section("funnel", t(language, "report.chart.funnel"),
                 t(language, "report.chart.funnel_note"), charts.funnel(
                     [(t(language, f"figures.funnel.{stage}"), count,
                       f"{count} · {percent(count, f.funnel[0][1], language)}")
                      for stage, count in f.funnel],
                     title=t(language, "report.chart.funnel"), chart_id="chart-funnel",
                     empty=empty)),
        _section("topics", t(language, "report.chart.topics"),
                 t(language, "report.chart.topics_note"), charts.paired_rows(
                     [charts.Pair(topic_labels(config, [tp.topic_id], language), tp.chosen,
                                  tp.discussed)
                      for tp in f.topics if tp.chosen != 0 or tp.discussed != 0],
                     title=t(language, "report.chart.topics"),
                     legend=(t(language, "report.chart.chosen"),
                             t(language, "report.chart.discussed")),
                     hidden=hidden, chart_id="chart-topics", empty=empty)),
        _section("ratings", t(language, "report.chart.ratings"),
                 t(language, "report.chart.ratings_note"), _ratings_chart(f, language)),
        _evaluation(f, language),
        '<aside class="privacy"><strong>'
        + escape(t(language, "report.privacy_title")) + "</strong><br>"
        + escape(t(language, "figures.privacy", k=k)) + "</aside>",
        f'<footer>{escape(t(language, "report.footer"))}</footer>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _section(name: str, title: str, note: str, chart: str) -> str:
    return (f'<section id="{name}"><h2>{escape(title)}</h2><p class="note">{escape(note)}</p>'
            f"{chart}</section>")


def _kpis(f: Figures, language: str) -> str:
    k = f.min_group
    hidden = t(language, "figures.hidden", k=k)
    ratings, evaluation = f.ratings, f.evaluation
    cards = [
        ("signups", str(f.signups), t(language, "report.kpi.detail.signups",
                                      juniors=f.role("mentor"), seniors=f.role("mentee"))),
        ("tandems", str(f.tandems), t(language, "report.kpi.detail.tandems",
                                      active=f.tandems_active, stalled=f.stalled)),
        ("meetings", str(f.meetings), t(language, "report.kpi.detail.meetings",
                                        finished=f.months_finished, months=f.months_total)),
        ("usefulness",
         number(ratings.average, language) if ratings.average is not None else "–",
         t(language, "report.kpi.detail.usefulness", count=ratings.ratings)
         if ratings.average is not None else hidden),
        ("recommend",
         percent(evaluation.recommend_percent, 100, language)
         if evaluation.recommend_percent is not None else "–",
         t(language, "report.kpi.detail.recommend", count=evaluation.respondents)
         if evaluation.recommend_percent is not None else hidden),
    ]
    items = "".join(
        f'<div class="kpi" id="kpi-{key}"><dt>{escape(t(language, f"report.kpi.{key}"))}</dt>'
        f'<dd><span class="value">{escape(value)}</span>'
        f'<span class="detail">{escape(detail)}</span></dd></div>'
        for key, value, detail in cards)
    return f'<dl class="kpis">{items}</dl>'


def _meetings_chart(f: Figures, language: str) -> str:
    hidden = t(language, "report.chart.hidden", k=f.min_group)
    bars = []
    for m in f.months:
        label = month_label(m.first_day, language)
        if not m.started:
            bars.append(charts.Bar(label, None, "–"))
        elif m.rate is None:
            bars.append(charts.Bar(label, None, hidden, hidden=True))
        else:
            bars.append(charts.Bar(label, m.rate, percent(m.rate, 1, language)))
    axis = [(v / 100, percent(v, 100, language)) for v in (0, 25, 50, 75, 100)]
    return charts.columns(bars, title=t(language, "report.chart.meetings"), maximum=1.0,
                          chart_id="chart-meetings", axis=axis,
                          empty=t(language, "report.chart.empty"))


def _meetings_table(f: Figures, language: str) -> str:
    """Per month: meetings put in the calendar with Find a time beside meetings held
    (check-ins "we met"), as the chat report and the dashboard show them: counts only."""
    hidden = t(language, "figures.hidden", k=f.min_group)

    def shown(count: int | None, started: bool) -> str:
        return "–" if not started else hidden if count is None else str(count)

    head = "".join(f'<th scope="col">{escape(t(language, f"report.meetings_table.{c}"))}</th>'
                   for c in ("month", "scheduled", "held"))
    rows = "".join(
        f'<tr id="meetings-month-{m.month}"><th scope="row">'
        f"{escape(month_label(m.first_day, language))}</th>"
        f'<td class="num">{escape(shown(m.scheduled, m.started))}</td>'
        f'<td class="num">{escape(shown(m.meetings, m.started))}</td></tr>'
        for m in f.months)
    return f'<table id="meetings-table"><tr>{head}</tr>{rows}</table>'


def _ratings_chart(f: Figures, language: str) -> str:
    title = t(language, "report.chart.ratings")
    distribution = f.ratings.distribution
    if distribution is None:
        return charts.placeholder(640, title, t(language, "figures.hidden_average", k=f.min_group),
                             "chart-ratings")
    top = max(max(distribution), 1)
    step = max(1, -(-top // 4))
    axis = [(v, str(v)) for v in range(0, step * 4 + 1, step)]
    bars = [charts.Bar(str(n), count, str(count)) for n, count in
            zip(range(1, 6), distribution, strict=True)]
    return charts.columns(bars, title=title, maximum=step * 4, chart_id="chart-ratings",
                          axis=axis, height=200)


def _evaluation(f: Figures, language: str) -> str:
    e = f.evaluation
    title = escape(t(language, "report.evaluation.title"))
    if e.continue_counts is None:
        text = escape(t(language, "report.evaluation.hidden", k=f.min_group))
        return f'<section id="evaluation"><h2>{title}</h2><p class="note">{text}</p></section>'
    rows = [
        (t(language, "figures.evaluation.respondents"), str(e.respondents)),
        (t(language, "figures.evaluation.average"),
         f"{number(e.average, language)} / 5" if e.average is not None else "–"),
        (t(language, "figures.evaluation.recommend"),
         percent(e.recommend_percent, 100, language) if e.recommend_percent is not None
         else "–"),
        *((t(language, f"report.evaluation.continue.{c}"), str(n))
          for c, n in zip(("same", "new", "no"), e.continue_counts, strict=True)),
    ]
    body = "".join(f"<tr><th scope=\"row\">{escape(a)}</th><td class=\"num\">{escape(b)}</td>"
                   "</tr>" for a, b in rows)
    return f'<section id="evaluation"><h2>{title}</h2><table>{body}</table></section>'
