"""Private wishes: colleagues a person prefers not to be paired with.

Who sees what, in order:
1. In the survey (the question ``wishes``), or at any time with ``wishes``
   (Slack ``/tandem wishes``, Teams ``wishes`` or ``wünsche``), a participant picks
   colleagues from the platform's people picker (Slack ``multi_users_select``,
   Teams' people picker), at most ``MOST``. The form shows their earlier choice.
2. On submit the ids are checked: each must be a colleague the bot knows (signed
   up, in the company directory, or known to the platform; one chosen before stays
   valid), never the person themselves. Otherwise the form stays open with a kind
   message on the field, and nothing changes. Valid choices replace the earlier
   ones, and the person alone is told how many colleagues are on their list.
3. The matching never pairs a person with a colleague on their list, nor with
   someone who has them on theirs. Nobody else ever sees a wish, not the named
   colleague, not the coordinators: a proposal says only "a private wish of a
   participant" when the wishes changed it, and wishes are in no CSV, report or
   log. ``my-data`` shows a person their own wishes; ``forget-me`` erases them and
   every wish that names the person forgotten.
People who have not signed up get a pointer to ``signup``.
"""

from __future__ import annotations

import re

from bot.core.errors import UserError
from bot.core.i18n import t
from conversations.context import FlowContext
from conversations.events import Actor, Command, FormSubmission, FormValue
from conversations.forms import Choice, Form, PeopleInput
from conversations.messages import Message
from conversations.outcomes import FormDone, FormInvalid, Outcome, ShowForm
from storage import participants, wishes
from storage.db import Session
from storage.models import Participant

FORM_ID = "wishes"
FIELD = "wishes"
#: The most colleagues one list may hold.
MOST = 10
_USER_ID = re.compile(r"^[\w:.@+-]{1,128}$")


async def current(session: Session, person: Participant | None) -> tuple[Choice, ...]:
    """The person's list as a picker's initial choice: (user id, name if signed up)."""
    if person is None:
        return ()
    ids = await wishes.wished(session, person.id)
    found = await participants.participants_for(session, person.platform, ids)
    return tuple(Choice(user_id, (found[user_id].display_name if user_id in found else None)
                        or user_id) for user_id in ids)


def field(language: str, initial: tuple[Choice, ...]) -> PeopleInput:
    """The picker, in the survey and in the ``wishes`` form."""
    return PeopleInput(FIELD, t(language, "wishes.label"), initial=initial, most=MOST,
                       hint=t(language, "wishes.hint", most=MOST))


def _form(language: str, initial: tuple[Choice, ...]) -> Form:
    return Form(id=FORM_ID, title=t(language, "wishes.title"),
                submit_label=t(language, "wishes.submit"),
                cancel_label=t(language, "wishes.cancel"),
                intro=t(language, "wishes.intro"), fields=(field(language, initial),))


async def check(ctx: FlowContext, actor: Actor, raw: FormValue, earlier: Participant | None,
                language: str) -> tuple[list[str], str | None]:
    """The ids chosen, or a message for the field when one may not be kept. The
    values come from the person's client: anything may be in them."""
    items = raw if isinstance(raw, list) else [] if raw in (None, "") else [raw]
    chosen = list(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))
    if len(chosen) > MOST:
        return [], t(language, "wishes.error.too_many", most=MOST)
    if actor.user_id in chosen:
        return [], t(language, "wishes.error.self")
    if any(_USER_ID.match(user_id) is None for user_id in chosen):
        return [], t(language, "wishes.error.unknown")
    if not chosen:  # an empty list is always fine: no session for it
        return [], None
    async with ctx.db.session() as session:
        before = set(await wishes.wished(session, earlier.id)) if earlier else set()
        known = before | await wishes.known_here(session, actor.platform, chosen)
    messenger = ctx.messenger(actor.platform)
    for user_id in chosen:
        if user_id not in known and not await messenger.knows(user_id):
            return [], t(language, "wishes.error.unknown")
    return chosen, None


async def save(ctx: FlowContext, actor: Actor, chosen: list[str]) -> None:
    """The person's list becomes ``chosen`` (already checked)."""
    async with ctx.db.session() as session:
        person = await participants.participant_for(session, actor.platform, actor.user_id)
        if person is not None:
            await wishes.replace_wishes(session, person, chosen, ctx.clock.now())


async def _signed_up(ctx: FlowContext, actor: Actor) -> tuple[Participant, str]:
    async with ctx.db.session() as session:
        person = await participants.participant_for(session, actor.platform, actor.user_id)
    language = ctx.language(actor.locale, person.locale if person else None)
    if person is None:
        raise UserError("membership.not_signed_up",
                        cmd=ctx.messenger(actor.platform).command_prefix)
    return person, language


async def command(ctx: FlowContext, cmd: Command) -> Outcome:
    person, language = await _signed_up(ctx, cmd.actor)
    async with ctx.db.session() as session:
        initial = await current(session, person)
    return ShowForm(_form(language, initial))


async def submit(ctx: FlowContext, submission: FormSubmission) -> Outcome:
    actor = submission.actor
    person, language = await _signed_up(ctx, actor)
    chosen, error = await check(ctx, actor, submission.values.get(FIELD), person, language)
    if error is not None:
        async with ctx.db.session() as session:
            initial = await current(session, person)
        return FormInvalid(_form(language, initial), {FIELD: error}, {})
    await save(ctx, actor, chosen)
    key = "wishes.saved" if chosen else "wishes.saved_none"
    return FormDone(Message.text(t(language, key, count=len(chosen))))
