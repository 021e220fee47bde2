"""The Two Generals' driver-side pieces: the dashboard panel and the CLI's verbs."""
