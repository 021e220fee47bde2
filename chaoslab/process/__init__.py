"""What every process of a cluster shares: the run contract between the lab and its children.

The supervisor writes it and the node and proxy processes read it, so it sits
below runtime, net and lab and imports nothing of theirs (standard library only):

- :mod:`~chaoslab.process.spec`: the cluster file (``cluster.json``) as children read it;
- :mod:`~chaoslab.process.rundir`: the run directory's layout;
- :mod:`~chaoslab.process.lifeline`: a child dies with its supervisor;
- :mod:`~chaoslab.process.gcpolicy`: garbage-collector settings for long-running children;
- :mod:`~chaoslab.process.child`: a child's ``main`` (arguments, lifeline, logging, signals, exit codes).
"""
