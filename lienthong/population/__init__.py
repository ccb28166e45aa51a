"""Population registry: citizens keyed by the 12-digit personal ID, legacy CMND numbers,
residence, family links and vital status."""
