"""Driver-side pieces of the Maelstrom host: the user's program, the ``chaoslab maelstrom`` verbs."""
