"""Registry of health facilities (CSKCB) and public agencies."""
