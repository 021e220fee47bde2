"""The Bully algorithm's driver-side pieces: so far its dashboard panel.

The core arrives later; like every adapter, only drivers import these.
"""
