"""Append-only, hash-chained audit log of every read or write of personal data."""
