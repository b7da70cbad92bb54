import pytest

from tconv_lib.tables import Table


def test_html_and_text_hold_every_cell_escaped():
    table = Table(["layer", "shape"], [["Conv2D", (2, 3)], ["a<b", 4]])
    html = table._repr_html_()
    assert html.count("<tr>") == 3 and "<th>layer</th>" in html and "<td>(2, 3)</td>" in html
    assert "a&lt;b" in html and "a<b" not in html
    assert repr(table).splitlines() == ["layer   shape", "Conv2D  (2, 3)", "a<b     4"]


def test_rows_of_the_wrong_length_are_rejected():
    with pytest.raises(ValueError, match="rows"):
        Table(["a", "b"], [[1]])
