"""Platform-neutral conversation flows.

Flows take neutral events (``conversations.events``) and answer with neutral
outcomes (``conversations.outcomes``), messages (``conversations.messages``) and
forms (``conversations.forms``); adapters translate both
ways. Nothing here imports a chat platform SDK.
"""
