"""The matching engine: plain Python over plain data (no ORM in its loops).

`types` holds the shapes every part shares; `blocking` the blocking keys and their
kinds; `comparators` the per-field comparisons (rapidfuzz) and their named levels;
`fellegi_sunter` the statistical model whose per-field contributions add up to the
match weight; `training` learns it from a base without labels. The services in
`rcu.services.matching` drive it against the database.
"""
