#!/usr/bin/env python3
"""A planted bug: broadcast.py that gossips each message to its neighbours once and forgets it,
never waiting for an acknowledgement nor resending. Fine on a healthy network; a message
broadcast while its node is cut off never reaches the others (`all_delivered` must catch it)."""
import broadcast

broadcast.main(retry=False)
