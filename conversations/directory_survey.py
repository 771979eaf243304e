"""The survey asks less: what the company directory already says is shown, not asked.

Who sees what, in order:
1. A person the directory knows opens the survey: their department, manager and
   office (whichever the directory holds and the survey asks) are not asked; the
   form shows "From the company directory: Marketing, manager Jane Doe" instead,
   with a box "this is wrong" and room for a short note.
2. Ticking it (or writing a note) and submitting tells the coordinators, each in
   their language, privately: owed in the transaction that saves the answers, once
   for the same facts and note however often the submission comes. Nobody else
   sees it, the partner least of all. The directory's facts stay as they are: the
   matching keeps using them until the directory itself changes.
3. A person the directory does not know is asked as before; the department is
   chosen from app.yaml's list, else from the departments the directory knows.
   Where there are more than one select holds, the platform asks for choices as
   the person types (``department_choices``); only a known department is kept.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from bot.core.i18n import t
from conversations import owed
from conversations.audience import coordinator_languages
from conversations.context import FlowContext
from conversations.events import Actor
from conversations.forms import Choice
from conversations.messages import Message, Paragraph
from conversations.survey import SELECT_MAX, Known, clean_text, directory_line
from storage import deliveries
from storage.directory_survey import KnownFacts, departments
from storage.people import people

#: How much of what a person types into the search is looked at.
QUERY_MAX = 100


async def known(ctx: FlowContext, actor: Actor) -> Known:
    """The directory's facts about ``actor`` and the departments to choose from, as far
    as the survey asks for either."""
    questions = ctx.config.survey.questions
    if not {"department", "manager", "location"} & set(questions):
        return Known()
    # In the batch of the other lookups of a burst of sign-ups, not a session each.
    facts = await people(ctx.db).directory_facts(actor.platform, actor.user_id)
    listed = ctx.config.survey.departments
    if not listed and "department" in questions and (facts is None or facts.department is None):
        async with ctx.db.reading() as session:
            listed = await departments(session)
    return Known(facts, listed)


async def department_choices(ctx: FlowContext, query: str) -> list[Choice]:
    """The known departments matching what was typed (those starting with it first),
    at most as many as one select shows."""
    listed = ctx.config.survey.departments
    if not listed:
        async with ctx.db.session() as session:
            listed = await departments(session)
    wanted = clean_text(query[:QUERY_MAX]).casefold()
    starting = [d for d in listed if d.casefold().startswith(wanted)]
    inside = [d for d in listed if wanted in d.casefold() and d not in starting]
    return [Choice(d, d) for d in (starting + inside)[:SELECT_MAX]]


async def flag_rows(ctx: FlowContext, actor: Actor, known_facts: KnownFacts, note: str,
                    round_id: int, now: datetime) -> list[dict[str, Any]]:
    """The coordinators' notice that the directory is wrong about ``actor``, as owed
    rows for the transaction that saves the survey. Its key is made of the facts and
    the note, so the same flag sent again is owed once."""
    answered = Known(known_facts).answered(ctx.config.survey.questions)
    name = actor.display_name or actor.user_id
    said = "|".join((actor.platform, actor.user_id, known_facts.department or "",
                     known_facts.manager_key or "", known_facts.location or "", note))
    key = f"directory_flag:{hashlib.sha256(said.encode()).hexdigest()[:24]}"

    def compose(language: str) -> Message:
        blocks = [Paragraph(t(language, "survey.directory.flagged", name=name,
                              facts=directory_line(language, known_facts, answered)))]
        if note:
            blocks.append(Paragraph(t(language, "survey.directory.flagged_note", note=note)))
        return Message(title=t(language, "survey.directory.flagged_title"),
                       blocks=tuple(blocks))

    languages = await coordinator_languages(ctx)
    return [deliveries.owed_row(o.claim, o.payload(), now)
            for o in owed.for_coordinators(ctx, languages, key, round_id, compose)]
