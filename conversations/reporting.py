"""The ``report`` command: the programme's figures, privately, for a coordinator.

Who sees what, in order: a coordinator types ``report`` (Slack ``/tandem
report``, Teams ``report`` or ``bericht``) and privately gets the round's
figures as facts: sign-ups, tandems, meetings per month, stalled and
unreachable counts, the average usefulness, the participation funnel, topics
chosen vs. discussed and the closing evaluation. Everything is a count or an
average; groups smaller than ``report.min_group_size`` read "fewer than 5"
(see ``conversations.figures``). No names, no reflection text: those are in the
coordinator's own dashboard. Anyone else gets the polite refusal and nothing
happens. Every use is written to the audit log.
"""

from __future__ import annotations

from datetime import date

from bot.core.config import AppConfig
from bot.core.i18n import t
from conversations import figures as figs
from conversations.context import FlowContext
from conversations.coordination import audit, require_coordinator
from conversations.events import Command
from conversations.figures import Figures
from conversations.messages import Block, Facts, Message, Paragraph
from conversations.outcomes import Outcome, Reply
from conversations.summary import format_day, topic_labels
from storage import rounds
from storage.models import Round


def number(value: float, language: str, digits: int = 1) -> str:
    """A decimal number with the language's separator (``format.decimal_separator``)."""
    return f"{value:.{digits}f}".replace(".", t(language, "format.decimal_separator"))


def percent(part: float, whole: float, language: str) -> str:
    if not whole:
        return "–"
    return t(language, "format.percent", value=round(100 * part / whole))


def month_label(day: date, language: str) -> str:
    return f"{t(language, f'report.month.{day.month}')} {day.year}"


def shown(value: int | None, k: int, language: str) -> str:
    return str(value) if value is not None else t(language, "figures.hidden", k=k)


async def current_round(ctx: FlowContext) -> Round:
    async with ctx.db.session() as session:
        return await rounds.sync_round(session, ctx.config.round, ctx.clock.now())


def overview_facts(config: AppConfig, f: Figures, language: str) -> Facts:
    k = f.min_group
    usefulness = (
        t(language, "figures.usefulness_value", average=number(f.ratings.average, language),
          count=f.ratings.ratings)
        if f.ratings.average is not None else t(language, "figures.hidden_average", k=k))
    items = [
        (t(language, "figures.signups"),
         t(language, "figures.signups_value", total=f.signups, juniors=f.role("mentor"),
           seniors=f.role("mentee"))),
        (t(language, "figures.tandems"),
         t(language, "figures.tandems_value", total=f.tandems, active=f.tandems_active)),
        (t(language, "figures.meetings"), str(f.meetings)),
        (t(language, "figures.stalled", months=config.rhythm.stalled_after_periods),
         str(f.stalled)),
        (t(language, "figures.unreachable"), str(f.unreachable)),
        (t(language, "figures.usefulness"), usefulness),
    ]
    if f.left:
        items.insert(1, (t(language, "figures.left"), str(f.left)))
    return Facts(tuple(items))


def figure_blocks(config: AppConfig, f: Figures, language: str) -> tuple[Block, ...]:
    """The figures as facts, for a chat message; the same words as the board report."""
    k = f.min_group
    blocks: list[Block] = [
        Paragraph(t(language, "figures.as_of", date=format_day(
            f.as_of.astimezone(config.timezone), language), finished=f.months_finished,
            months=f.months_total)),
        overview_facts(config, f, language),
        Paragraph(t(language, "figures.months_title")),
    ]
    months = []
    for m in f.months:
        label = t(language, "figures.month_label", month=m.month,
                  label=month_label(m.first_day, language))
        if not m.started:
            value = t(language, "figures.not_yet")
        elif m.meetings is None:
            value = t(language, "figures.hidden", k=k)
        else:
            value = t(language, "figures.month_value", meetings=m.meetings,
                      expected=m.expected, percent=percent(m.meetings, m.expected, language))
        if m.scheduled:
            value += " · " + t(language, "meetings.figures_scheduled", count=m.scheduled)
        months.append((label, value))
    blocks.append(Facts(tuple(months)))
    blocks.append(Paragraph(t(language, "figures.funnel_title")))
    signed = f.funnel[0][1]
    blocks.append(Facts(tuple(
        (t(language, f"figures.funnel.{stage}"),
         t(language, "figures.funnel_value", count=count,
           percent=percent(count, signed, language)))
        for stage, count in f.funnel)))
    topics = [tp for tp in f.topics if tp.chosen != 0 or tp.discussed != 0]
    if topics:
        blocks.append(Paragraph(t(language, "figures.topics_title")))
        blocks.append(Facts(tuple(
            (topic_labels(config, [tp.topic_id], language),
             t(language, "figures.topic_value", chosen=shown(tp.chosen, k, language),
               discussed=shown(tp.discussed, k, language)))
            for tp in topics)))
    blocks.append(Paragraph(t(language, "figures.evaluation_title")))
    blocks.append(evaluation_facts(f, language))
    blocks.append(Facts(((t(language, "fit.report", count=f.fit.respondents),
                          " / ".join(map(str, f.fit.counts)) if f.fit.counts is not None
                          else t(language, "figures.hidden_average", k=k)),)))
    blocks.append(Paragraph(t(language, "figures.privacy", k=k)))
    return tuple(blocks)


def evaluation_facts(f: Figures, language: str) -> Facts:
    e, k = f.evaluation, f.min_group
    hidden = t(language, "figures.hidden_average", k=k)
    items = [(t(language, "figures.evaluation.respondents"), str(e.respondents))]
    items.append((t(language, "figures.evaluation.average"),
                  f"{number(e.average, language)} / 5" if e.average is not None else hidden))
    items.append((t(language, "figures.evaluation.recommend"),
                  f"{percent(e.recommend_percent, 100, language)}"
                  if e.recommend_percent is not None else hidden))
    items.append((t(language, "figures.evaluation.continue"),
                  " / ".join(map(str, e.continue_counts))
                  if e.continue_counts is not None else hidden))
    return Facts(tuple(items))


async def command(ctx: FlowContext, cmd: Command) -> Outcome:
    actor = cmd.actor
    require_coordinator(ctx, actor)
    language = ctx.language(actor.locale)
    current = await current_round(ctx)
    data = await figs.load(ctx.db, current)
    found = figs.programme(ctx.config, data, ctx.clock.now())
    await audit(ctx, actor, "report", round=current.name)
    return Reply(Message(title=t(language, "figures.title", round=current.name),
                         blocks=figure_blocks(ctx.config, found, language)))
