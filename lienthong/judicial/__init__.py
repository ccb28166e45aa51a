"""Judicial records (lý lịch tư pháp): domain rules for criminal-record certificates."""
