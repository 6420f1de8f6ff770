"""Every read of the stewardship app, with the access rules."""
