"""Unique phone numbers, cards and e-mails in bounded memory.

Two different persons sharing a mobile or an e-mail by accident would poison the ground
truth (a matcher would be right to merge them). Numbers come from a counter passed through a
keyed permutation, so they never repeat and never look consecutive; e-mails go through a
fixed-size Bloom filter, which may refuse a free address (harmless: a suffix is added) but
never accepts a taken one. Neither grows with the number of persons.
"""

from __future__ import annotations

import hashlib
import random


class DigitPermutation:
    """A keyed bijection of the numbers with `digits` digits (a small Feistel network)."""

    ROUNDS = 4

    def __init__(self, digits: int, key: str) -> None:
        if digits % 2:
            raise ValueError("digits must be even: the number is split into two halves")
        self.digits = digits
        self._half = 10 ** (digits // 2)
        rng = random.Random(f"permutation:{digits}:{key}")
        self._keys = [
            (rng.randrange(1, self._half) | 1, rng.randrange(self._half))
            for _ in range(self.ROUNDS)
        ]

    def __call__(self, index: int) -> str:
        half = self._half
        left, right = divmod(index % (half * half), half)
        for multiplier, offset in self._keys:
            mixed = (right * multiplier + offset) * (right + offset + 1)
            left, right = right, (left + mixed + (mixed // half)) % half
        return f"{left * half + right:0{self.digits}d}"


class NumberIssuer:
    """Hands out distinct digit strings, never one from `reserved`."""

    def __init__(self, digits: int, key: str, reserved: frozenset[str] = frozenset()) -> None:
        self._permutation = DigitPermutation(digits, key)
        self._next = 0
        self._reserved = reserved

    def issue(self) -> str:
        while True:
            number = self._permutation(self._next)
            self._next += 1
            if number not in self._reserved:
                return number


class SeenFilter:
    """A Bloom filter over strings: `add` says whether the string was (possibly) seen before."""

    def __init__(self, bits: int = 1 << 25, hashes: int = 4) -> None:
        self._bits = bytearray(bits // 8)
        self._mask = bits - 1
        if bits & self._mask:
            raise ValueError("bits must be a power of two")
        self._hashes = hashes

    def add(self, value: str) -> bool:
        """Record `value`; True when it may already have been recorded."""
        # A proper digest: deterministic across runs, unlike the built-in hash().
        digest = int.from_bytes(hashlib.blake2b(value.encode(), digest_size=16).digest(), "little")
        bits, mask = self._bits, self._mask
        seen = True
        for _ in range(self._hashes):
            position = digest & mask
            digest >>= 32
            byte, bit = position >> 3, 1 << (position & 7)
            if not bits[byte] & bit:
                seen = False
                bits[byte] |= bit
        return seen
