"""Scripted chaos runs: scenario files, workloads, nemesis, verdicts, reports (``chaoslab run``)."""
