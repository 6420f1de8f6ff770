"""Server-rendered stewardship pages (thin views: selectors read, services write)."""
