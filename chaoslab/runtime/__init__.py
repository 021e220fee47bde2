"""The node process: drives one algorithm core with real time and real gRPC."""
