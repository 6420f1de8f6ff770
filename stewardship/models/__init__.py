from stewardship.models.candidates import MergeCandidate, MergeCandidateQuerySet
from stewardship.models.decisions import Decision

__all__ = ["Decision", "MergeCandidate", "MergeCandidateQuerySet"]
