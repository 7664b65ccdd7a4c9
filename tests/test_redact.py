"""Scrubbing: the prefix-checked scrubber against one plain alternation of every secret and
token shape (the implementation it replaced for speed)."""

from __future__ import annotations

import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from distributor.redact import MASK, PREFIX, TOKEN_PATTERNS, TOKEN_RULES, _Scrubber

SECRETS = {"s3cr3t-Value-0001", "tok_ABCDEFGH", "abcd", "Zz9_long-secret-with-more-chars"}


def _plain(values: set[str], text: str) -> str:
    literals = sorted(values, key=len, reverse=True)
    return re.compile("|".join([*map(re.escape, literals), *TOKEN_PATTERNS])).sub(MASK, text)


pieces = st.lists(
    st.one_of(
        st.sampled_from(sorted(SECRETS)),
        st.sampled_from(["tok_ABCDEF", "s3cr3t-V", "abc", "Bearer ", "whsec_", "x" * 9]),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(pieces)
def test_registered_values_are_masked_as_one_alternation_masks_them(parts: list[str]) -> None:
    """Without any token shape's fixed part in the text, only the values count: the same
    output as the plain alternation."""
    text = "".join(parts)
    assume(not any(gate in text for gate, _ in TOKEN_RULES))
    assert _Scrubber(SECRETS).sub(text) == _plain(SECRETS, text)


@settings(max_examples=400, deadline=None)
@given(pieces)
def test_nothing_secret_survives(parts: list[str]) -> None:
    """With token shapes about, the order of masking may differ from the plain alternation
    (it can leave a token's tail after a value inside it); what must hold is that no value
    and no token shape is left."""
    out = _Scrubber(SECRETS).sub("".join(parts))
    assert not any(s in out for s in SECRETS)
    for pattern in TOKEN_PATTERNS:
        assert all(set(m) <= set(MASK) for m in re.findall(pattern, out)), (pattern, out)


def test_no_secret_survives_and_near_misses_stay() -> None:
    scrub = _Scrubber(SECRETS).sub
    line = "a abcd b tok_ABCDEFGH c s3cr3t-Value-0001d tok_ABCDEFG s3cr3t-Value-000"
    out = scrub(line)
    assert not any(s in out for s in SECRETS)
    assert out == f"a {MASK} b {MASK} c {MASK}d tok_ABCDEFG s3cr3t-Value-000"


def test_token_shapes_without_registered_values() -> None:
    scrub = _Scrubber(set()).sub
    bot = "123456789:" + "A" * 35
    assert scrub(f"GET /bot{bot}/sendMessage") == f"GET /bot{MASK}/sendMessage"
    assert scrub("Authorization: Bearer abcdefgh12345") == f"Authorization: Bearer {MASK}"
    assert scrub("no secrets here: 12:30") == "no secrets here: 12:30"


def test_a_long_value_is_found_at_every_offset_and_a_short_one_too() -> None:
    """Long values are looked up only at every PREFIX-th position of a line: any start works."""
    long = "Kq7-x_9Lm2Np4Rs6Tv8W"  # 20 characters: pieces checked, not prefixes
    for length in range(2 * PREFIX - 1, len(long) + 1):
        value, scrub = long[:length], _Scrubber({long[:length], "abcd"}).sub
        for offset in range(2 * PREFIX + 1):
            line = "x" * offset + value + " y abcd"
            assert scrub(line) == "x" * offset + f"{MASK} y {MASK}", (length, offset)
