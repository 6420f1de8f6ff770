"""Every write of the stewardship app: one concern per module.

- sync: merge candidates kept in step with matching (the `review_pairs_found` hook)
- leases: claiming a candidate while reviewing it
- merge: merging golden customers (`customers_merge`, `candidate_merge`)
- reject: "not the same person" (`candidate_reject`) and reopening it
- unmerge: detaching records, undoing a decision from the ledger
- pair_decisions: the record-level decisions the matching engine obeys
"""
