"""Private machinery of `bot.search`: text normalisation, vocabulary, the ranked index."""
