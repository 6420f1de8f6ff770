"""REST API of the stewardship app."""
