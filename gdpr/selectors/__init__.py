"""The GDPR app's reads, each owning its access rule (only the DPO; admins for the register)."""
