"""Administrative units: the current 34 provinces and their wards (package ``vietnam-provinces``),
the 63 pre-2025 provinces, and the versioned mapping between them."""
