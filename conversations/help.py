"""Help: what the bot can do, for the person asking.

Who sees what: the person privately sees the participant commands; a
coordinator also sees the coordinator commands (both lists come from
``conversations.command_list``). An unknown command gets the same help,
prefixed with a note that the command was not understood.
"""

from __future__ import annotations

from bot.core.i18n import t
from conversations.command_list import Who, for_whom
from conversations.context import FlowContext
from conversations.events import Command
from conversations.messages import Facts, Message, Paragraph
from conversations.outcomes import Outcome, Reply

PARTICIPANT_COMMANDS = for_whom(Who.PARTICIPANT)
COORDINATOR_COMMANDS = for_whom(Who.COORDINATOR)


def help_message(ctx: FlowContext, command: Command, unknown: str | None = None) -> Outcome:
    actor = command.actor
    language = ctx.language(actor.locale)
    prefix = ctx.messenger(actor.platform).command_prefix
    blocks: list[Paragraph | Facts] = []
    if unknown:
        blocks.append(Paragraph(t(language, "help.unknown", command=unknown[:40])))
    blocks.append(Paragraph(t(language, "help.intro", programme=ctx.config.programme_name)))
    blocks.append(
        Facts(
            tuple(
                (f"{prefix}{t(language, f'command.{name}')}", t(language, f"help.{name}"))
                for name in PARTICIPANT_COMMANDS
            )
        )
    )
    if ctx.config.is_coordinator(actor.platform, actor.user_id):
        blocks.append(Paragraph(t(language, "help.coordinator_intro")))
        blocks.append(Facts(tuple(
            (f"{prefix}{t(language, f'command.{name}')}", t(language, f"help.{name}"))
            for name in COORDINATOR_COMMANDS
        )))
    return Reply(Message(title=t(language, "help.title"), blocks=tuple(blocks)))


async def show(ctx: FlowContext, command: Command) -> Outcome:
    return help_message(ctx, command)
