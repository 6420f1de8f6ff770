"""Reference data shipped with RCU (read through importlib.resources, never from disk paths)."""
