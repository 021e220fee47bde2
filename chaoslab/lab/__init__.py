"""The lab: run directories, the supervisor, and the Python API (:class:`Cluster`)."""
