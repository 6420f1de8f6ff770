"""The matching engine: plain Python over plain data (no ORM in its loops).

`types` holds the shapes every part shares; `keys` the blocking keys; `comparators`
the per-field comparisons (rapidfuzz); `model` the Fellegi-Sunter scoring whose
per-field contributions add up to the match weight.
"""
