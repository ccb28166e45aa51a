"""lienthong: the citizen data exchange platform of Project 06."""

__version__ = "0.1.0"
