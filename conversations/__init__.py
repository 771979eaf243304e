"""Platform-neutral conversation flows.

Flows take neutral events (``conversations.events``) and answer with neutral
outcomes and messages (``conversations.messages``); adapters translate both
ways. Nothing here imports a chat platform SDK.
"""
