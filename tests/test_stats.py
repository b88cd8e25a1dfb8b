"""The significance test, against numbers computed independently of the code under test."""

from __future__ import annotations

import math

import pytest

from golflint.logs.stats import significance, t_cdf

RECORD, DELTA, ALPHA = 2.07269931, 0.005, 0.01


def _cdf_df2(t: float) -> float:
    # Closed form of Student's t CDF with 2 degrees of freedom.
    return 0.5 + t / (2.0 * math.sqrt(2.0 + t * t))


def _cdf_df1(t: float) -> float:
    # Cauchy.
    return 0.5 + math.atan(t) / math.pi


def test_three_seeds_by_hand():
    values = [2.060, 2.062, 2.064]
    r = significance(values, RECORD, DELTA, ALPHA)
    # mean 2.062, sample std 0.002, se 0.002/sqrt(3), threshold 2.06769931
    t = (2.062 - (RECORD - DELTA)) / (0.002 / math.sqrt(3))
    assert r.n == 3 and r.mean == pytest.approx(2.062) and r.std == pytest.approx(0.002)
    assert r.t == pytest.approx(t) and t == pytest.approx(-4.93575, abs=1e-4)
    assert r.p == pytest.approx(_cdf_df2(t)) and r.p == pytest.approx(0.019341, abs=1e-6)
    assert not r.significant and "does not show" in r.verdict


def test_two_seeds_by_hand():
    values = [2.0600, 2.0610]
    r = significance(values, RECORD, DELTA, ALPHA)
    t = (2.0605 - (RECORD - DELTA)) / (math.sqrt(0.5e-6) / math.sqrt(2))
    assert r.t == pytest.approx(t)
    assert r.p == pytest.approx(_cdf_df1(t))
    assert r.significant == (_cdf_df1(t) < ALPHA)


def test_clear_improvement_is_significant():
    r = significance([2.06012374, 2.05968127, 2.06051892], RECORD, DELTA, ALPHA)
    assert r.significant and r.p < 1e-3 and "significantly more than 0.005" in r.verdict
    assert "n=3" in r.summary() and "p=" in r.summary() and "std" in r.summary()


def test_improvement_smaller_than_delta_is_not_significant():
    r = significance([RECORD - 0.004, RECORD - 0.0041, RECORD - 0.0039], RECORD, DELTA, ALPHA)
    assert not r.significant and r.t > 0 and r.p > 0.5


def test_worse_than_record():
    r = significance([2.08, 2.09, 2.085], RECORD, DELTA, ALPHA)
    assert not r.significant and "does not beat the record" in r.verdict


@pytest.mark.parametrize("values", [[], [2.06]])
def test_too_few_seeds_cannot_show_significance(values):
    r = significance(values, RECORD, DELTA, ALPHA)
    assert not r.significant and r.std is None and r.t is None and r.p is None
    assert "cannot show significance" in r.verdict
    if values:
        assert r.verdict.startswith("one seed")


def test_min_seeds_setting():
    r = significance([2.06, 2.061], RECORD, DELTA, ALPHA, min_seeds=3)
    assert r.std is None and "at least 3" in r.verdict


def test_identical_seeds():
    r = significance([2.06, 2.06, 2.06], RECORD, DELTA, ALPHA)
    assert r.significant and r.p == 0.0 and r.t == -math.inf and "identical" in r.verdict
    r = significance([2.07, 2.07], RECORD, DELTA, ALPHA)
    assert not r.significant and r.p == 1.0


def test_non_finite_values_are_dropped():
    r = significance([2.06, float("nan"), 2.061, float("inf")], RECORD, DELTA, ALPHA)
    assert r.n == 2


@pytest.mark.parametrize("t", [-50.0, -4.9357, -1.0, 0.0, 0.7, 3.0])
def test_t_cdf_closed_forms(t):
    assert t_cdf(t, 1) == pytest.approx(_cdf_df1(t), abs=1e-12)
    assert t_cdf(t, 2) == pytest.approx(_cdf_df2(t), abs=1e-12)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 8, 13, 30, 101])
def test_t_cdf_matches_scipy(df):
    stats = pytest.importorskip("scipy.stats")
    for t in (-12.0, -3.3, -1.0, -0.2, 0.0, 0.5, 2.2, 9.0):
        assert t_cdf(t, df) == pytest.approx(float(stats.t.cdf(t, df)), abs=1e-12)


def test_matches_scipy_one_sample_test():
    stats = pytest.importorskip("scipy.stats")
    values = [2.0655, 2.0671, 2.0662, 2.0668]
    ours = significance(values, RECORD, DELTA, ALPHA)
    theirs = stats.ttest_1samp(values, RECORD - DELTA, alternative="less")
    assert ours.t == pytest.approx(theirs.statistic) and ours.p == pytest.approx(theirs.pvalue)


def test_t_cdf_edges():
    assert t_cdf(math.inf, 3) == 1.0 and t_cdf(-math.inf, 3) == 0.0
    assert math.isnan(t_cdf(math.nan, 3))
    with pytest.raises(ValueError):
        t_cdf(1.0, 0)
