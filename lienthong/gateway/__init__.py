"""Gateways that accept data submitted by external systems (health facilities, agencies)."""
