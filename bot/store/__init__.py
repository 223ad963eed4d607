"""The bot's own tables: conversations, inbound messages (dedupe) and the outbox."""
