import pytest

from tconv_lib import validation


def test_integer_arguments_reject_pairs_and_small_values():
    assert validation.integer(3, "n") == 3
    with pytest.raises(ValueError, match="n must be an int"):
        validation.integer((2, 3), "n")
    with pytest.raises(ValueError, match="n must be an int"):
        validation.integer(True, "n")
    with pytest.raises(ValueError, match="block_size must be >= 2"):
        validation.integer(1, "block_size", minimum=2)
