"""C4, L8, S3: the settlement arithmetic. Plain integers in and out; no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parlour.credits.settlement import Split, percent_of, split


@pytest.mark.parametrize(
    ("price", "charge", "share", "expected"),
    [
        # (price, charge %, platform share %) -> (charged, to expert, to platform, returned)
        (100, 100, 20, (100, 80, 20, 0)),  # held (C4)
        (100, 50, 20, (50, 40, 10, 50)),  # late cancellation (L8) and client no-show (S3)
        (0, 100, 20, (0, 0, 0, 0)),  # a free meeting
        (0, 50, 20, (0, 0, 0, 0)),
        (100, 0, 20, (0, 0, 0, 100)),  # no late charge
        (100, 100, 0, (100, 100, 0, 0)),  # no platform share
        (100, 100, 100, (100, 0, 100, 0)),  # the platform keeps all
        (100, 50, 100, (50, 0, 50, 50)),
        # rounding half up, in whole credits
        (1, 50, 20, (1, 1, 0, 0)),  # 0.5 -> 1; 0.2 -> 0
        (3, 50, 20, (2, 2, 0, 1)),  # 1.5 -> 2; 0.4 -> 0
        (5, 50, 50, (3, 1, 2, 2)),  # 2.5 -> 3; 1.5 -> 2
        (7, 100, 25, (7, 5, 2, 0)),  # 1.75 -> 2
        (10, 25, 20, (3, 2, 1, 7)),  # 2.5 -> 3; 0.6 -> 1
        (99, 33, 33, (33, 22, 11, 66)),  # 32.67 -> 33; 10.89 -> 11
        (101, 50, 20, (51, 41, 10, 50)),  # 50.5 -> 51; 10.2 -> 10
        (10**7, 50, 20, (5 * 10**6, 4 * 10**6, 10**6, 5 * 10**6)),
    ],
)
def test_c4_split_table(price, charge, share, expected):
    parts = split(price, charge, share)
    assert (parts.charged, parts.to_expert, parts.to_platform, parts.returned) == expected
    assert parts.charged + parts.returned == price
    assert parts.to_expert + parts.to_platform == parts.charged


@pytest.mark.parametrize(
    ("amount", "percent", "expected"), [(1, 50, 1), (1, 49, 0), (3, 50, 2), (10, 15, 2), (0, 70, 0)]
)
def test_c4_percent_of_rounds_half_up(amount, percent, expected):
    assert percent_of(amount, percent) == expected


@pytest.mark.parametrize(("price", "charge", "share"), [(-1, 50, 20), (100, 101, 20), (100, 50, -1), (100, -5, 20)])
def test_c4_impossible_inputs_are_refused(price, charge, share):
    with pytest.raises(ValueError):
        split(price, charge, share)


def test_c4_a_split_whose_parts_do_not_add_up_cannot_exist():
    with pytest.raises(AssertionError):
        Split(charged=10, to_expert=5, to_platform=4, returned=0)


@given(
    price=st.integers(min_value=0, max_value=10**7),
    charge=st.integers(min_value=0, max_value=100),
    share=st.integers(min_value=0, max_value=100),
)
def test_c4_the_parts_always_add_up_to_the_price(price, charge, share):
    parts = split(price, charge, share)
    assert parts.charged + parts.returned == price
    assert parts.to_expert + parts.to_platform == parts.charged
    assert min(parts.charged, parts.to_expert, parts.to_platform, parts.returned) >= 0
    assert abs(parts.charged * 100 - price * charge) <= 50  # within half a credit of exact
