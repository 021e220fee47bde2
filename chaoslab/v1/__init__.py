"""Generated from proto/chaoslab/v1 by `python -m chaoslab.wire.regen`. Do not edit."""
