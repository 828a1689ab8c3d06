"""The machinery behind `bot.understand`: amounts, names, clients, teams, cards."""
