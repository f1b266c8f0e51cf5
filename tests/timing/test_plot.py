from timing.rendering.plot import _panel_title
from timing.rendering.waterfall import ArmPanel


def test_panel_titles_count_pods_in_words_a_reader_expects():
    def title(pods, banded=False, not_cold=0):
        return _panel_title(ArmPanel("vote-standard", "standard", pods, [], banded, not_cold))

    assert title(1) == "vote-standard (standard): 1 pod"
    assert title(2) == "vote-standard (standard): 2 pods"
    assert title(500, banded=True, not_cold=3) == "vote-standard (standard): quantiles of 500 pods, 3 not cold"
