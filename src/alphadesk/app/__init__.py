"""Composition: settings, logging, the command line; the only layer that picks concrete adapters."""
