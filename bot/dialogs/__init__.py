"""Dialogue handlers, one module per feature.

Each handler takes `(turn, ctx, me, ...)` and returns `Reply`s. They are reached only
through the routing tables in `bot.conversation`, the one router.
"""
