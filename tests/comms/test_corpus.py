"""The discipline checks measured on labelled corpora of incident messages: every failure
pattern caught in at least 90 % of the messages that commit it, and at most 10 % of clean
messages warned. ``messages.toml`` and ``holdout.toml`` are the corpora the checks were
written against (the second was measured blind first, then used); the figures are recorded in
docs/benchmarks.md (``python -m tests.comms.corpus.measure``)."""

from __future__ import annotations

import pytest

from tests.comms.corpus.measure import CORPUS, MEASURED, load, measure, table

RECALL = 0.90
CLEAN_WARNED = 0.10
TUNED = ["messages.toml", "holdout.toml"]


@pytest.fixture(scope="module", params=TUNED)
def messages(request):
    return load(CORPUS.with_name(request.param))


def test_the_corpus_is_large_and_covers_every_pattern(messages):
    assert len(messages) >= 80
    assert len({m.id for m in messages}) == len(messages), "message ids repeat"
    assert sum(not m.expect for m in messages) >= 30
    for code in MEASURED:
        assert sum(code in m.expect for m in messages) >= 7, code


@pytest.mark.parametrize("code", MEASURED)
def test_each_pattern_is_caught_in_nine_messages_of_ten(messages, code):
    scores, _ = measure(messages)
    score = next(s for s in scores if s.code == code)

    assert score.recall >= RECALL, f"{code} missed {list(score.missed)}\n{table(messages)}"


def test_clean_messages_are_rarely_warned(messages):
    _, warned = measure(messages)
    clean = sum(not m.expect for m in messages)

    assert len(warned) / clean <= CLEAN_WARNED, f"warned: {warned}\n{table(messages)}"


def test_the_ids_are_unique_across_the_corpora():
    ids = [m.id for name in TUNED for m in load(CORPUS.with_name(name))]

    assert len(ids) == len(set(ids))


# ``blind.toml`` was written by someone who never saw the checks or the other corpora, and
# the checks have not been changed to fit it: it is the estimate of how they do on wording
# nobody tuned them on. These are its figures when it was first measured; a change that does
# worse on it fails here. Raise them as the checks improve, never lower them.
BLIND_CAUGHT = {
    "speculation": 3,
    "restoration_promise": 6,
    "blame": 2,
    "alarm_in_recovery": 6,
    "jargon": 6,
    "no_next_update": 8,
    "overcorrection": 10,
    "public_post_mortem": 8,
}
BLIND_CLEAN_WARNED = 5


def test_the_checks_do_no_worse_on_the_blind_corpus():
    messages = load(CORPUS.with_name("blind.toml"))
    scores, warned = measure(messages)

    caught = {s.code: s.caught for s in scores}
    assert all(caught[code] >= floor for code, floor in BLIND_CAUGHT.items()), table(messages)
    assert len(warned) <= BLIND_CLEAN_WARNED, table(messages)
