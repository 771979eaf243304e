"""Matching, reviewed by a coordinator, then introduced and announced.

Who sees what, in order:
1. A coordinator types ``match`` (Slack ``/tandem match``). Anyone else gets a
   polite refusal and nothing happens. The coordinator is answered at once
   ("matching N people…"); the engine runs on the round's sign-ups.
2. The proposal arrives privately: how many tandems, average and worst score,
   data warnings, the unmatched with their reasons, the numbered pairs with
   why they fit, and a CSV of all of it. Buttons: Confirm, Run again.
3. The coordinator may adjust and re-run: ``match pin 3`` keeps pair 3,
   ``match block 3`` / ``match drop 3`` rules pair 3 out, ``match swap 3 5``
   exchanges the seniors of pairs 3 and 5, ``match reset`` forgets all of that.
   Each adjustment shows a new proposal.
4. Confirm creates the tandems once, however often and by however many
   coordinators it is pressed. Every tandem then gets its introduction (see
   ``introductions``) and the programme channels get the matching
   announcement, without any private detail.
5. Once the round is confirmed, ``match`` does the same for everyone still
   waiting for a tandem (``conversations.running_round``).
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from typing import Any

from bot.core.errors import UserError
from bot.core.i18n import t
from bot.matching.engine import match as run_engine
from bot.matching.explain import describe_unmatched, describe_warning
from bot.matching.model import MatchWarning, Unmatched
from conversations import introductions, org_chart, org_notes, owed, running_round, values
from conversations.context import FlowContext
from conversations.coordination import audit, require_coordinator
from conversations.events import Actor, ButtonPress, Command
from conversations.match_input import engine_rules, people_and_org, result_to_json
from conversations.messages import Button, Facts, Message, Paragraph
from conversations.outcomes import Outcome, Working
from conversations.schedule import RoundDates
from conversations.summary import topic_labels
from storage import audit_log, directory, participants, proposals, rounds, tandems, wishes
from storage.models import MatchProposal, Round, RoundStatus

CONFIRM = "match.confirm"
SHOWN_PAIRS = 25


async def command(ctx: FlowContext, cmd: Command) -> Outcome:
    actor = cmd.actor
    require_coordinator(ctx, actor)
    language = ctx.language(actor.locale)
    words = cmd.text.split()[1:]
    action = words[0].lower() if words else "run"
    async with ctx.db.session() as session:
        current = await rounds.sync_round(session, ctx.config.round, ctx.clock.now())
        if current.status == RoundStatus.ENDED:
            done = await proposals.confirmed_proposal(session, current.id)
            raise UserError("match.already_confirmed", round=current.name,
                            count=len(done.result["pairs"]) if done else 0)
        latest = await proposals.latest_proposal(session, current.id)
        if latest is not None and current.status == RoundStatus.MATCHED \
                and not running_round.is_running(latest):
            latest = None  # the first matching's proposals are done with
        if action in ("pin", "block", "drop", "swap"):
            await _adjust(ctx, session, actor, current, latest, action, words[1:])
        elif action == "reset":
            await proposals.clear_rules(session, current.id)
        elif action == "confirm":
            pass
        elif action != "run":
            raise UserError("match.usage", cmd=ctx.messenger(actor.platform).command_prefix)
        count = await _to_match(session, current)
    if action == "confirm":
        if latest is None:
            raise UserError("match.nothing_to_confirm")
        return await confirm(ctx, ButtonPress(actor, CONFIRM, str(latest.id)))
    await audit(ctx, actor, f"match.{action}", args=words[1:])

    async def propose() -> None:
        await _propose(ctx, actor, current.id)

    return Working(Message.text(t(language, "match.working", count=count)), propose)


async def _to_match(session: Any, current: Round) -> int:
    """How many people the matching looks at: everyone signed up, or in a running
    round everyone still waiting."""
    if current.status == RoundStatus.MATCHED:
        return len((await running_round.waiting(session, current)).people)
    return len(await participants.round_participants(session, current.id))


async def _adjust(ctx: FlowContext, session: Any, actor: Actor, current: Round,
                  latest: MatchProposal | None, action: str, args: list[str]) -> None:
    pairs: list[dict[str, Any]] = latest.result["pairs"] if latest else []

    def pair(text: str) -> dict[str, Any]:
        number = values.number_or_none(text, 1, len(pairs))
        if number is None:
            raise UserError("match.no_such_pair", number=text[:10], count=len(pairs))
        return pairs[number - 1]

    expected = 2 if action == "swap" else 1
    if len(args) != expected:
        raise UserError("match.usage", cmd=ctx.messenger(actor.platform).command_prefix)
    now, by = ctx.clock.now(), actor.user_id
    if action == "pin":
        chosen = pair(args[0])
        await proposals.add_rule(session, current.id, "pin", chosen["mentor"], chosen["mentee"],
                                 by, now)
    elif action in ("block", "drop"):
        chosen = pair(args[0])
        await proposals.add_rule(session, current.id, "block", chosen["mentor"], chosen["mentee"],
                                 by, now)
    else:
        first, second = pair(args[0]), pair(args[1])
        if first is second:
            raise UserError("match.swap_same")
        for mentor, mentee in ((first["mentor"], second["mentee"]),
                               (second["mentor"], first["mentee"])):
            await proposals.add_rule(session, current.id, "pin", mentor, mentee, by, now)
        for old in (first, second):
            await proposals.add_rule(session, current.id, "block", old["mentor"], old["mentee"],
                                     by, now)


async def compute(
    ctx: FlowContext, round_id: int, by: str, *, save: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Round, dict[str, Any], MatchProposal | None]:
    """Run the engine on the round's sign-ups; store the result as a draft proposal."""
    async with ctx.db.session() as session:
        signed_up = await participants.round_participants(session, round_id)
        earlier = await tandems.earlier_pairs(session, round_id)
        rules = await proposals.rules(session, round_id)
        current = await rounds.round_by_id(session, round_id)
        assert current is not None
        waiting = (await running_round.waiting(session, current)
                   if current.status == RoundStatus.MATCHED else None)
        chart = await directory.org_chart(session)
        wished = await wishes.forbidden_pairs(session, signed_up)
    # Everyone signed up stays in the org chart (with the whole company directory);
    # a running round matches the waiting.
    view = org_chart.apply_directory(signed_up, *people_and_org(signed_up), chart)
    engine_rules_ = engine_rules(ctx.config, earlier, rules, wished)
    if waiting is not None:
        view.people, engine_rules_ = waiting.restrict(view.people, engine_rules_)
    # The engine is CPU-bound: keep the event loop answering other people meanwhile.
    result = await asyncio.to_thread(
        run_engine, view.people, engine_rules_, view.org, reference=current.starts_at,
        progress=progress
    )
    stored = result_to_json(result)
    if waiting is not None:
        stored[running_round.RUNNING] = True
    org_chart.annotate(stored, view, ctx.config.matching.reporting_line_depth,
                       {p.id: p.role for p in view.people}, used_directory=bool(chart))
    if not save:
        return current, stored, None
    async with ctx.db.session() as session:
        proposal = await proposals.save_proposal(session, round_id, by, ctx.clock.now(), stored)
    return current, stored, proposal


async def _propose(ctx: FlowContext, actor: Actor, round_id: int) -> None:
    """The new proposal is stored with its message and CSV owed to the coordinator
    who asked, in one transaction, then sent: a crash loses neither, and the
    "Confirm" it carries is never missing. Should the engine fail, nothing is stored
    and the router tells the coordinator (an answer to their request, not owed)."""
    current, stored, _ = await compute(ctx, round_id, actor.user_id, save=False)
    language = ctx.language(actor.locale)
    prefix = ctx.messenger(actor.platform).command_prefix
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        proposal = await proposals.save_proposal(session, round_id, actor.user_id, now, stored)
        key = f"proposal:{proposal.id}"
        csv_file = (f"tandem-{current.name}-proposal-{proposal.number}.csv",
                    proposal_csv(ctx, stored, language))
        keys = await owed.record(session, [
            *owed.for_user(actor.platform, actor.user_id, round_id, "proposal", key,
                           proposal_message(ctx, proposal, language, prefix)),
            *owed.for_user(actor.platform, actor.user_id, round_id, "proposal", f"{key}:csv",
                           Message.text(t(language, "match.csv_comment",
                                          number=proposal.number)), file=csv_file),
        ], now)
    await owed.deliver(ctx, keys)


def proposal_message(ctx: FlowContext, proposal: MatchProposal, language: str,
                     prefix: str) -> Message:
    blocks = summary_blocks(ctx, proposal.result, language, prefix)
    if running_round.is_running(proposal):
        blocks = (Paragraph(t(language, "running.proposal_note",
                              round=ctx.config.round.name)), *blocks)
    return Message(
        title=t(language, "match.title", number=proposal.number),
        blocks=blocks,
        buttons=_buttons(proposal, language),
    )


def _buttons(proposal: MatchProposal, language: str) -> tuple[Button, ...]:
    rerun = Button("command:match", t(language, "match.rerun_button"))
    count = len(proposal.result["pairs"])
    if not count:
        return (rerun,)
    confirm_button = Button(CONFIRM, t(language, "match.confirm_button", count=count),
                            value=str(proposal.id), style="primary")
    return (confirm_button, rerun)


def summary_blocks(ctx: FlowContext, result: dict[str, Any], language: str,
                   prefix: str | None) -> tuple[Paragraph | Facts, ...]:
    """Figures, warnings, pairs and the unmatched with reasons, for a coordinator."""
    pairs, unmatched = result["pairs"], result["unmatched"]
    matched_people = len({p["mentor"] for p in pairs} | {p["mentee"] for p in pairs})
    facts = Facts((
        (t(language, "match.fact.tandems"), str(len(pairs))),
        (t(language, "match.fact.people"),
         t(language, "match.fact.people_value", matched=matched_people,
           total=matched_people + len(unmatched))),
        (t(language, "match.fact.average"), _score(result["average"])),
        (t(language, "match.fact.worst"), _score(result["worst"])),
    ))
    blocks: list[Paragraph | Facts] = [facts]
    for warning in result["warnings"]:
        blocks.append(Paragraph("⚠ " + describe_warning(MatchWarning(
            warning["code"], tuple(warning["people"]), warning["params"]), language)))
    blocks += org_notes.paragraphs(result, language)
    lines = []
    for number, pair in enumerate(pairs[:SHOWN_PAIRS], start=1):
        topics = topic_labels(ctx.config, list(pair["explanation"]["offered_wished"]), language)
        lines.append(t(language, "match.pair_line", number=number, mentor=pair["mentor_name"],
                       mentee=pair["mentee_name"], score=_score(pair["score"]),
                       topics=topics or "–",
                       pinned=t(language, "match.pinned") if pair["pinned"] else "")
                     + org_notes.pair_source(pair, language))
    if len(pairs) > SHOWN_PAIRS:
        lines.append(t(language, "match.more_pairs", count=len(pairs) - SHOWN_PAIRS))
    if lines:
        blocks.append(Paragraph("\n".join(lines)))
    if unmatched:
        blocks.append(Paragraph(t(language, "match.unmatched_title") + "\n" + "\n".join(
            f"• {line}" for line in unmatched_reasons(result, language)[:SHOWN_PAIRS])))
    if prefix is not None:
        blocks.append(Paragraph(t(language, "match.adjust", cmd=prefix)))
    return tuple(blocks)


def unmatched_reasons(result: dict[str, Any], language: str) -> list[str]:
    """"Name: why not matched" for each person a proposal leaves without a tandem."""
    return [f"{u['name']}: " + describe_unmatched(Unmatched(
        str(u["participant"]), u["name"], u["role"], u["reason"], u["params"]), language)
        for u in result["unmatched"]]


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def proposal_csv(ctx: FlowContext, result: dict[str, Any], language: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t(language, f"match.csv.{c}") for c in
                     ("pair", "mentor", "mentee", "score", "topics", "pinned", "reason")])
    for number, pair in enumerate(result["pairs"], start=1):
        writer.writerow([
            number, _safe_cell(pair["mentor_name"]), _safe_cell(pair["mentee_name"]),
            _score(pair["score"]),
            topic_labels(ctx.config, list(pair["explanation"]["offered_wished"]), language),
            "x" if pair["pinned"] else "", "",
        ])
    for u in result["unmatched"]:
        unmatched = Unmatched(str(u["participant"]), u["name"], u["role"], u["reason"],
                              u["params"])
        names = ("", _safe_cell(u["name"])) if u["role"] == "mentee" else (
            _safe_cell(u["name"]), "")
        writer.writerow(["", *names, "", "", "", describe_unmatched(unmatched, language)])
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def _safe_cell(text: str) -> str:
    """Names typed by people must not become spreadsheet formulas."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def confirm(ctx: FlowContext, press: ButtonPress) -> Outcome:
    actor = press.actor
    require_coordinator(ctx, actor)
    language = ctx.language(actor.locale)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        proposal = await values.row(session, proposals.proposal_by_id, press.value)
        current = await rounds.round_by_id(session, proposal.round_id)
        assert current is not None
        latest = await proposals.latest_proposal(session, proposal.round_id)
        running = running_round.is_running(proposal)
        if (current.status == RoundStatus.OPEN or running) and latest is not None \
                and latest.id != proposal.id:
            raise UserError("match.outdated", number=latest.number)
        if running:
            won = await proposals.confirm_running(session, proposal, actor.user_id, now)
            pairs = (await running_round.still_waiting(session, current,
                                                       proposal.result["pairs"])
                     if won else [])
            joined = running_round.joined_period(
                current, RoundDates.of(current, ctx.config.timezone), now)
        else:
            won = await proposals.confirm(session, proposal, actor.user_id, now)
            pairs, joined = proposal.result["pairs"], None
        if won:
            made = await tandems.create_tandems(session, proposal.round_id, pairs, now,
                                                joined_period=joined)
            if running:
                new = {(p["mentor"], p["mentee"]) for p in pairs}
                made = [m for m in made if (m.mentor_id, m.mentee_id) in new]
            await audit_log.record(session, actor.platform, actor.user_id, "match.confirm",
                                   {"proposal": proposal.number, "tandems": len(made)}, now)
            keys = await introductions.owe_introductions(
                ctx, session, current, only={m.id for m in made} if running else None)
    if not won:
        raise UserError("match.already_confirmed", round=current.name,
                        count=len(proposal.result["pairs"]))
    if running:
        async def introduce_new() -> None:
            await owed.deliver(ctx, keys)

        return Working(Message.text(t(language, "running.confirmed", count=len(made),
                                      round=current.name)), introduce_new)

    async def introduce() -> None:
        await owed.deliver(ctx, keys)

    return Working(
        Message.text(t(language, "match.confirmed", count=len(made), round=current.name)),
        introduce,
    )
