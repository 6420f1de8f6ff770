"""The GDPR app's writes: one module per area (requests, packs, register, access log)."""
