"""Test helpers for the real services (PostgreSQL, PgBouncer, Redis) and the bundled test data.

The fixtures in tests/conftest.py are thin wrappers around these helpers, so a test that needs
something the fixtures do not give (a second database, an extra key prefix) can call them directly.
"""
