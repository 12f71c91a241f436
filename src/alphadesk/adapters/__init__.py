"""Adapters: the outside world (exchanges, storage, buses, simulators) behind the engine ports."""
