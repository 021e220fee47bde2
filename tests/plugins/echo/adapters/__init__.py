"""Echo's driver-side piece: its dashboard panel."""
