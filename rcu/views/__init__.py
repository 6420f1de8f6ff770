"""Server-rendered pages: one module per area, thin views over selectors and services."""
