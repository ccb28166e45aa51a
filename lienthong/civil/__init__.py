"""Linked civil procedures (liên thông khai sinh / khai tử) and driver health certificates."""
