"""Each discipline check measured against the labelled corpora beside this file.

Run ``python -m tests.comms.corpus.measure`` for the tables recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from comms.discipline import AUDIENCES, CHANNELS, JUDGEMENTS, PHASES, check

CORPUS = Path(__file__).with_name("messages.toml")
# The judgements of wording a careful communications director makes; text-message length
# and reading grade are measurements, and the corpus keeps every message inside both.
MEASURED = JUDGEMENTS


@dataclass(frozen=True)
class Message:
    id: str
    audience: str
    channel: str
    phase: str
    lapsed: bool
    previous_lengths: tuple[int, ...]
    expect: frozenset[str]
    body: str


@dataclass(frozen=True)
class Score:
    code: str
    committing: int
    caught: int
    others: int
    false_alarms: int
    missed: tuple[str, ...]
    wrongly_warned: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.caught / self.committing if self.committing else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_alarms / self.others if self.others else 0.0


def load(path: Path = CORPUS) -> list[Message]:
    """The corpus, each entry checked for the fields the measurement needs."""
    with path.open("rb") as handle:
        entries = tomllib.load(handle)["message"]
    messages = []
    for entry in entries:
        message = Message(
            id=entry["id"],
            audience=entry["audience"],
            channel=entry["channel"],
            phase=entry["phase"],
            lapsed=bool(entry.get("lapsed", False)),
            previous_lengths=tuple(entry.get("previous_lengths", ())),
            expect=frozenset(entry["expect"]),
            body=entry["body"],
        )
        problems = [
            f"{name} {value!r}"
            for name, value, allowed in (
                ("audience", message.audience, AUDIENCES),
                ("channel", message.channel, CHANNELS),
                ("phase", message.phase, PHASES),
            )
            if value not in allowed
        ] + [f"code {code!r}" for code in message.expect - set(MEASURED)]
        if problems:
            raise ValueError(f"corpus message {message.id}: unknown {', '.join(problems)}")
        messages.append(message)
    return messages


def found(message: Message) -> frozenset[str]:
    """The measured codes the checks raise for one message."""
    return frozenset(
        finding.code
        for finding in check(
            body=message.body,
            audience=message.audience,
            channel=message.channel,
            phase=message.phase,
            previous_lengths=message.previous_lengths,
            lapsed=message.lapsed,
        )
        if finding.code in MEASURED
    )


def measure(messages: list[Message]) -> tuple[list[Score], list[str]]:
    """Every measured check's score, and the clean messages that were warned at all."""
    results = {message.id: found(message) for message in messages}
    scores = []
    for code in MEASURED:
        committing = [m for m in messages if code in m.expect]
        others = [m for m in messages if code not in m.expect]
        scores.append(
            Score(
                code=code,
                committing=len(committing),
                caught=sum(code in results[m.id] for m in committing),
                others=len(others),
                false_alarms=sum(code in results[m.id] for m in others),
                missed=tuple(m.id for m in committing if code not in results[m.id]),
                wrongly_warned=tuple(m.id for m in others if code in results[m.id]),
            )
        )
    clean_warned = [m.id for m in messages if not m.expect and results[m.id]]
    return scores, clean_warned


def table(messages: list[Message]) -> str:
    scores, clean_warned = measure(messages)
    clean = sum(not m.expect for m in messages)
    lines = [
        f"{len(messages)} messages, {clean} of them clean.",
        "",
        "| Check | Messages that commit it | Caught | Recall | Others warned "
        "| False-positive rate |",
        "|---|---|---|---|---|---|",
    ]
    for s in scores:
        lines.append(
            f"| {s.code} | {s.committing} | {s.caught} | {s.recall:.0%} | "
            f"{s.false_alarms} of {s.others} | {s.false_positive_rate:.1%} |"
        )
    lines += [
        "",
        f"Clean messages warned by any check: {len(clean_warned)} of {clean} "
        f"({len(clean_warned) / clean:.1%})."
        if clean
        else "",
    ]
    for s in scores:
        if s.missed or s.wrongly_warned:
            lines.append(
                f"- {s.code}: missed {list(s.missed)}; wrongly warned {list(s.wrongly_warned)}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    for path in sorted(CORPUS.parent.glob("*.toml")):
        print(f"## {path.name}\n\n{table(load(path))}\n")
