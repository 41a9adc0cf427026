"""Scenario files: the shipped ones are valid, and a wrong one is refused with the line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exercises import scenarios

GOOD = """\
title: "Exercise: the bus company's routing system is down"
kind: other
severity: 3
scope: all schools
injects:
  - at: "0:10"
    to: communications
    text: Parents call about late buses.
"""


def test_the_three_shipped_scenarios_are_valid():
    shipped = scenarios.shipped()
    assert set(shipped) == {
        "ransomware-student-data",
        "sis-report-card-day",
        "network-phones-down",
    }
    for scenario in shipped.values():
        assert scenario.injects
        assert [i.at for i in scenario.injects] == sorted(i.at for i in scenario.injects)


def test_a_good_file_reads_as_a_scenario():
    scenario = scenarios.parse(GOOD)
    assert scenario.all_schools and scenario.speed == 60
    [inject] = scenario.injects
    assert inject.at == timedelta(minutes=10)
    assert inject.to == ("communications",)


def test_json_is_read_too():
    text = (
        '{"title": "Exercise in JSON", "kind": "lms", "severity": 4, "scope": ["School 1"],'
        ' "injects": [{"at": "1:00", "to": ["cio", "legal"], "text": "A call."}]}'
    )
    assert scenarios.parse(text).schools == ("School 1",)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("severity: 3", "severity: 7"), "line 3: severity: 7 is not one of: 1, 2, 3, 4."),
        (
            ("    to: communications", "    to: comms"),
            "line 7: injects[0].to: 'comms' is not a role, everyone, or a list of roles",
        ),
        (
            ('  - at: "0:10"', '  - at: "ten past"'),
            "line 6: injects[0].at: 'ten past' is not a time on the incident's clock; "
            "write hours:minutes, as 1:30.",
        ),
        (("kind: other\n", ""), "line 1: 'kind' is missing."),
        (
            ("scope: all schools", "scope: everywhere"),
            'line 4: scope: write "all schools" or a list of school names.',
        ),
        (
            ("    text: Parents call about late buses.", "    txt: Parents call."),
            "line 6: injects[0]: unknown field txt; the fields here are at, to, from, text, "
            "changes.",
        ),
    ],
)
def test_each_mistake_is_named_with_its_line(change, says):
    with pytest.raises(scenarios.ScenarioError) as refused:
        scenarios.parse(GOOD.replace(*change))
    assert any(p.startswith(says) for p in refused.value.problems), refused.value.problems


def test_broken_yaml_points_at_the_line():
    with pytest.raises(scenarios.ScenarioError, match=r"^line 8, column 9: expected"):
        scenarios.parse(GOOD.replace("    to: communications", "    to: [communications"))


def test_injects_out_of_order_are_refused():
    text = GOOD + '  - at: "0:05"\n    to: everyone\n    text: Earlier.\n'
    with pytest.raises(scenarios.ScenarioError, match="line 9: injects.1..at: 0:05 comes before"):
        scenarios.parse(text)


def test_a_file_that_is_not_text_is_refused():
    with pytest.raises(scenarios.ScenarioError, match="not UTF-8"):
        scenarios.parse(b"\xff\xfe\x00", name="the file")


def test_a_number_too_long_to_read_is_refused():
    with pytest.raises(scenarios.ScenarioError, match="cannot be read"):
        scenarios.parse("9" * 10_001)


def test_a_text_too_long_is_named_without_repeating_it():
    with pytest.raises(scenarios.ScenarioError) as refused:
        scenarios.parse(GOOD.replace("Parents call about late buses.", "x" * 2001))
    assert refused.value.problems == [
        "line 8: injects[0].text: is longer than 2,000 characters; shorten it."
    ]


def test_a_control_character_is_refused_with_where_it_is():
    with pytest.raises(scenarios.ScenarioError, match="is not YAML or JSON"):
        scenarios.parse("\x1f")
