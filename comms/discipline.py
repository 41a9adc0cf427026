"""Message discipline checks: plain-language warnings shown live in the message editor.

Pure functions of the draft text (no database), so the editor can run them as the comms lead
types. Warnings never block. They hold the doctrine: keep the rhythm of updates, impact before
cause, no guessing at the cause or promising a fix time early, no blame, plain words.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

AUDIENCES = ("staff", "families", "board", "media")
CHANNELS = ("email", "sms", "web", "voice")
PHASES = ("control", "trust", "recovery")
# Every warning the checks raise. The first eight are judgements of the wording, which the
# labelled corpus measures; the last three are measurements (text-message parts, reading
# grade, facts against the other audiences' messages).
JUDGEMENTS = (
    "speculation",
    "restoration_promise",
    "blame",
    "alarm_in_recovery",
    "jargon",
    "no_next_update",
    "overcorrection",
    "public_post_mortem",
)
CODES = (*JUDGEMENTS, "sms_segments", "reading_grade", "facts_disagree")


@dataclass(frozen=True)
class Finding:
    """One warning: a stable code, a short title, why it matters, and the words that caused it."""

    code: str
    title: str
    reason: str
    excerpt: str = ""


@dataclass(frozen=True)
class SegmentInfo:
    """How a text message will be split by the phone network."""

    encoding: str
    characters: int
    segments: int
    per_segment: int


@dataclass(frozen=True)
class Facts:
    """The few facts that must agree across audiences: current status and next update time."""

    status: str | None
    next_update: str | None


def _rx(*alternatives: str) -> re.Pattern[str]:
    r"""One case-insensitive pattern; \b on both ends so "server" never matches "observer"."""
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


# --- SMS encoding (GSM 03.38). é, è, à, ñ, ü and friends ARE in the GSM-7 basic set; á, í, ó,
# ú, ê, curly quotes, dashes and emoji are not, and any one of them forces UCS-2.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension characters are sent as an escape plus the character, so each costs two units.
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
_GSM = _GSM_BASIC | _GSM_EXTENDED

# --- Phrase lists. Longer alternatives come first so the excerpt shows the whole phrase.
_SPECULATION = _rx(
    r"we (?:believe|think|suspect)(?: that)? (?:the )?(?:root )?cause",
    r"we (?:believe|think)(?: that)? (?:this|it) (?:was|is|may be|might be) (?:caused|due)",
    r"(?:likely|probably|possibly|apparently|presumably) (?:caused by|due to|the result of)",
    r"(?:may|might|could) have been (?:caused|triggered)",
    r"(?:appears|seems|looks) (?:to be|to have been|like it was) (?:caused|due to|triggered)",
    r"(?:root )?cause (?:appears|seems|is likely|is probably|may be|might be|looks)",
    r"early (?:signs|indications) (?:point|suggest)|we suspect|suspected|most likely|probably",
    r"hackers?|(?:a|the) (?:bad|faulty|botched|failed) (?:software )?(?:update|upgrade|patch)",
    r"(?:this|that|it) is what happens when",
)
# A guess at the cause in one sentence: a hedge and a causal word together ("we think a bad
# update caused it", "it looks like the sign-in service stopped after last night's change").
_HEDGE = _rx(
    r"(?:we|I) (?:believe|think|suspect|assume)",
    r"(?:it |this |the \w+ )?(?:appears|seems|looks like)",
    r"(?:likely|probably|possibly|presumably|apparently)|best guess|early (?:signs|indications)",
    r"(?:may|might|could) (?:also )?(?:have|be)",
    r"initial (?:signs|indications|reports) (?:point|suggest)",
    r"not (?:sure|certain) yet|(?:our|the) (?:working )?(?:theory|suspicion)",
)
_CAUSAL = _rx(
    r"caus\w*|because|due to|result of|(?:from|after) (?:a|an|the|last|our|this|yesterday)\b",
    r"broke|got in|came in|gained access|triggered|work of|traced to|linked to",
    r"started (?:when|with)",
    r"knocked out|took down|took out|brought down|behind (?:this|it|the)|stopped \w+ing",
    r"damag\w*|(?:problem|issue|fault|failure) (?:with|in) (?:a|an|the|our)",
)
# In Recovery, updates should steady people; alarm words undo that.
_ALARM = _rx(
    r"urgent(?:ly)?|emergency|crisis|critical|chaos|catastroph\w*|disaster|severe(?:ly)?",
    r"alarming|devastating|panic|immediately|as soon as possible|asap",
)
_PARTY = r"(?:vendor|provider|contractor|supplier|third[- ]party|company|carrier|county|crew)"
_BLAME = _rx(
    rf"(?:the |a |our )?{_PARTY}(?:['’]s)? (?:fault|error|mistake|failure)",
    rf"(?:the )?{_PARTY} (?:failed (?:to|us)|did not|didn['’]t|neglected|let \w+)",
    rf"(?:due to|caused by) (?:the |a |our )?(?:\w+ )?{_PARTY}",
    r"(?:not|never) (?:our|the district['’]s|the school['’]s|the schools['’]) "
    r"(?:fault|error|doing)",
    r"(?:their|its) (?:own )?(?:fault|error|mistake)|no fault of (?:our|its) own",
    r"(?:we|the district|our (?:\w+ )?(?:staff|schools|team)) did nothing wrong",
    r"(?:their|the company['’]s|the vendor['’]s) (?:\w+ )?(?:system|product|team|side) failed",
    r"(?:slow|late) to (?:fix|respond|act)|(?:disappointed|not happy) (?:in|with) (?:them|the \w+)",
    r"(?:outside|beyond) (?:of )?(?:our|the district['’]s|the school['’]s) (?:control|authority)",
    r"(?:we are|we['’]re|the district is) not (?:to blame|responsible)|no control over",
    r"legacy (?:systems?|software|equipment|infrastructure)|aging (?:systems?|infrastructure"
    r"|equipment)|underfund\w*|not (?:resourced|funded)",
    r"(?:funding )?requests? (?:\w+ ){0,4}(?:were|was|have been) (?:\w+ )?(?:denied|rejected"
    r"|not approved|turned down)",
    r"as (?:we|IT|the \w+ (?:team|department)|\w+) (?:have|has|had)? ?(?:long |repeatedly |often "
    r"|many times )?warned",
    # Pointing at someone else: they acted behind our back, admitted it, owe us.
    r"without (?:telling|notifying|warning|informing|asking|consulting) (?:us|the district)",
    r"admitted (?:the|its|their|to the) (?:mistake|error|fault)|seeking reimbursement",
    r"(?:beyond|outside) (?:the )?control of|(?:did|done) everything (?:it|we) could",
    r"followed? every (?:\w+ )?(?:practice|rule|procedure|guideline)",
    # Excuses of age and money.
    r"(?:old|outdated|aging|ageing|obsolete) (?:\w+ )?(?:equipment|systems?|infrastructure"
    r"|hardware|network)|\d+[- ]years?[- ]old|too little (?:\w+ )?funding",
    r"put off (?:\w+ )?(?:infrastructure|upgrades?|replacement|investment)",
    r"asked for (?:money|funding|funds) (?:\w+ ){0,5}(?:in a row|times|years)",
    # Scolding the people the message is for.
    r"no excuse|(?:should not|shouldn['’]t) have to (?:say|remind|tell|repeat)|needs repeating",
    r"(?:told|asked|warned) you (?:not to|to stop)|follow instructions|human error",
)

# --- Learn privately, stabilise publicly: how it happened, who failed and what is being done
# about them belong in the private review, never in a message to families or the public.
_POST_MORTEM = _rx(
    r"root cause|caused by|what caused|the cause (?:of|was)",
    r"(?:was|were) (?:the )?(?:result|because) of",
    r"(?:happened|occurred|started|began) because|that(?:['’]s| is| was) why",
    r"(?:outage|attack|breach|incident|problem|exposure|failure) (?:happened|occurred|started"
    r"|began) (?:when|after)",
    r"(?:change|update|upgrade|patch|mistake|error) (?:\w+ ){0,3}(?:broke|took down|knocked out)",
    r"(?:asked|know|tell you|explain|share|wondering) (?:\w+ ){0,3}(?:what|how) (?:\w+ )?"
    r"(?:happened|went wrong|caused|failed)",
    r"(?:attackers?|hackers?|criminals?|intruders?|group) (?:exploited|used|got in|gained|broke"
    r"|entered|accessed|stole|took advantage)",
    r"exploit(?:ed|ing)?|vulnerabilit(?:y|ies)|unpatched|zero[- ]day|CVE-\d{4}-\d+",
    r"security (?:flaw|hole|gap|weakness)|(?:flaw|weakness) in (?:the|our|its|their) (?:\w+ )?"
    r"(?:software|system|appliance|device|firewall|VPN|server|network)",
    r"(?:failed|neglected|forgot|did not|didn['’]t) (?:to )?(?:patch|update|apply|install|renew"
    r"|configure|back up|follow|test|call)",
    r"(?:was not|were not|wasn['’]t|weren['’]t|had not been|hadn['’]t been|never) "
    r"(?:patched|updated|backed up|tested|disabled|repaired)",
    r"misconfigur\w*|phishing|(?:compromised|stolen) (?:account|password|credentials|login)s?",
    r"(?:clicked|opened) (?:on )?(?:a|an|the) (?:\w+ )?(?:link|attachment|e-?mail)",
    r"lessons learned|post-?mortem|after-action|what went wrong",
    rf"(?:{_PARTY}|employee|staff member|technician|administrator)(?:['’]s)? (?:\w+ ){{0,3}}"
    r"(?:error|mistake|fault|failure|failed|let \w+|pushed|cut|shared)",
    r"(?:their|its) (?:own )?(?:error|mistake|fault)|not the district['’]s fault",
)
# Accountability talk belongs to governance at any phase, never in a public message.
_ACCOUNTABILITY = _rx(
    r"held (?:accountable|responsible)|accountability|disciplin(?:ary|ed)|negligen\w*",
    r"human error|(?:placed|put) on (?:administrative )?leave",
    r"removed from (?:\w+ )?(?:duties|duty)",
    r"(?:has|have|had) been (?:fired|terminated|dismissed|let go|suspended|reprimanded|reassigned)",
    r"(?:was|were) (?:fired|terminated|dismissed|let go|suspended|reprimanded|reassigned)",
    r"(?:is|are|was|were) (?:to blame|responsible for (?:the|this) (?:breach|attack|incident"
    r"|outage|failure))",
    r"(?:his|her|their) (?:mistake|error|failure|negligence)|human resources",
)
_PUBLIC = ("families", "media")

_JARGON = _rx(
    r"SIS|LMS|SSO|single sign-on|authenticat\w*|servers?|databases?|back-?end|outage window",
    r"root cause|RCA|latency|patch(?:es|ed|ing)?(?! of)|DNS|DDoS|APIs?|VPNs?|firewalls?|TCP",
    r"endpoints?|IP address(?:es)?|SAML|OAuth|VLANs?|DHCP|routers?|bandwidth|failover|MFA",
    # "packet" alone is usually homework in a school; only the network sense is jargon.
    r"(?:data |network )packets?|packet (?:loss|lost|drops?)|dropped packets?",
)

# --- Restoration promises: a restore word tied to a time, in the future.
_RESTORE = (
    r"(?:restored|fixed|resolved|repaired|back up and running|up and running|back online"
    r"|back to normal|working (?:again|normally)|available again"
    # Bare "back" only with a time after it: "back in class" and "back in touch" are not fixes.
    r"|back(?= (?:by|before|soon|shortly|later|today|tomorrow|tonight|on|this|within|in \w+ h))"
    # "be back up", "come up again": up after a verb of being back, not "keep up" or "sign up".
    r"|(?<=be )(?:back )?up|(?<=come )(?:back )?up|(?<=back )up)\b"
)
_DAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_DEADLINE = (
    rf"(?:tomorrow|tonight|today|noon|midday|lunch(?:time)?|{_DAY}"
    r"|(?:the )?end of (?:the )?(?:school )?(?:day|week)|this (?:morning|afternoon|evening)"
    r"|(?:first|second|third|fourth|fifth|sixth|\d(?:st|nd|rd|th)) period"
    r"|\d{1,2}(?::\d\d)?(?:\s*[ap]\.?\s?m\b\.?)?)"
)
_MODAL = r"(?:will|should|['’]ll|expect(?:s|ed)? (?:\w+ ){0,2}to|going to|plan to|hope to)"
_NO_UPDATE = r"(?:(?!update)[^.!?\n]){0,40}?"  # stay in the sentence, never across "update"
_PROMISES = (
    _rx(
        rf"{_MODAL} (?:be |have (?:it|them|everything|service) )?(?:fully |completely )?{_RESTORE}"
        rf"{_NO_UPDATE}\b(?:by|before|within|soon|shortly|later|{_DEADLINE})"
    ),
    # "was restored by 9 am" reports a fact; it does not promise one.
    _rx(rf"(?<!was )(?<!were )(?<!been )(?<!had ){_RESTORE} (?:by|before) {_DEADLINE}"),
    _rx(rf"(?:by|before) {_DEADLINE},?{_NO_UPDATE}\b{_MODAL} (?:be )?(?:fully )?{_RESTORE}"),
)

# --- Facts: status words and the next update time.
_STATUS = re.compile(
    r"\b(?:(?P<restored>(?:has|have|had|is|are|was|were|now)\s+(?:now\s+|been\s+|fully\s+)*"
    r"(?:restored|resolved|back online|back up|working again|back to normal)"
    r"|back online|back up and running|working (?:again|normally)|available again)"
    r"|(?P<degraded>(?:is|are|remains?|still|running|loading)\s+(?:still\s+|very\s+)?"
    r"(?:slow|slowly|degraded|intermittent|unreliable)|degraded|intermittent(?:ly)?"
    r"|partial (?:outage|service)|partially (?:working|available|down)|slower than usual)"
    r"|(?P<down>(?:is|are|was|were|went|remains?|still|been)\s+(?:still\s+|currently\s+|now\s+)?"
    r"(?:down|offline|unavailable|not working)|unavailable|not available|outage|not working"
    r"|(?:cannot|can['’]t|unable to)\s+(?:log\s?in|sign\s+in|access|reach|connect)))\b",
    re.IGNORECASE,
)
# Context in the same sentence before a status word: history ("was down"), negation or a
# condition ("until it is restored"), and hope ("we expect it back online") are not the status.
_HISTORY = re.compile(r"^(?:was|were|went)\b|\b(?:was|were|went|had)\s+(?:\w+\s+)?$", re.I)
_NOT_NOW = re.compile(r"(?:\bnot|n['’]t)\s+(?:\w+\s+)?$|\b(?:until|once|when|if)\b", re.I)
_HOPED = re.compile(r"\b(?:will|should|expect\w*|hope\w*|plan\w*)\b", re.I)
_ANCHOR = _rx(
    r"updat\w*|next|hear from us|in touch|check back|share more|follow up|remind\w*",
    r"(?:write|call|text|email|post|contact|brief) (?:to )?(?:you |the board |staff )?again",
    r"another (?:statement|message|note|call|briefing)|(?:further|next) statement",
)
_CLOCK = re.compile(
    r"\b(?:(?P<noon>noon|midday)|(?P<midnight>midnight)"
    r"|(?P<h>\d{1,2})(?::(?P<m>[0-5]\d))?\s*(?P<ap>[ap])\.?\s?m\b\.?"
    r"|(?P<h24>\d{1,2}):(?P<m24>[0-5]\d)"
    r"|(?:at|by|before|around|until)\s+(?P<hb>\d{1,2})\b(?![:.]\d)(?!\s*(?:%|[ap]\.?\s?m\b))"
    r"(?!\s*(?:percent|schools?|students?|people|staff|minutes?|hours?|days?|buildings?)\b))",
    re.IGNORECASE,
)
_MONTH = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)(?:[a-z]*)\.? \d{1,2}(?:st|nd|rd|th)?"
)
_RELATIVE = _rx(
    rf"tomorrow|tonight|hourly|{_DAY}|this (?:morning|afternoon|evening)|end of (?:the )?day",
    rf"(?:on |by )?{_MONTH}|end of (?:the )?(?:week|month)",
    r"(?:within|in) (?:the next |an? |one |two |three |four |\d+ )?(?:half )?(?:hour|minute)s?",
    r"every (?:\d+ |two |three |four |few )?(?:hour|minute)s?",
)
_FINAL = _rx(
    r"(?:final|last) (?:\w+ )?(?:update|statement|message|notice)",
    r"no (?:further|more) (?:updates|statements)",
)

# Sentence ends, but not the dots inside "3 p.m." or "e.g." (lookbehinds must be fixed width).
_SENTENCE_END = re.compile(
    r"(?<![ap]\.m)(?<!\b(?:e\.g|i\.e|Mrs))(?<!\b(?:Mr|Ms|Dr|St))[.!?]+(?=\s|$)|\n+",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’.:][A-Za-z0-9]+)*")
_AUDIENCE_NAMES = {"board": "the board", "media": "media and the public"}


def sms_segments(text: str) -> SegmentInfo:
    """Count the SMS parts `text` needs: GSM-7 if every character allows it, else UCS-2.

    One message holds 160 GSM-7 or 70 UCS-2 units, else parts of 153 or 67. An escaped GSM
    character (€, {, ^ ...) or an emoji is never split across parts, so a part may hold one less.
    """
    if all(ch in _GSM for ch in text):
        encoding, single, multi = "GSM-7", 160, 153
        units = [2 if ch in _GSM_EXTENDED else 1 for ch in text]
    else:
        # UCS-2 counts UTF-16 code units: characters beyond the BMP (most emoji) take two.
        encoding, single, multi = "UCS-2", 70, 67
        units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    total = sum(units)
    if total <= single:
        return SegmentInfo(encoding, total, 1, single)
    segments, used = 1, 0
    for size in units:
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return SegmentInfo(encoding, total, segments, multi)


def _syllables(word: str) -> int:
    letters = re.sub(r"[^a-z]", "", word.lower())
    if not letters:
        return 1  # a number is read as one beat; close enough for a grade estimate
    count = len(re.findall(r"[aeiouy]+", letters))
    # Silent endings: "have", "closed" (but not "table" or "started").
    silent_e = letters.endswith("e") and not re.search(r"[^aeiouy]le$", letters)
    if count > 1 and (silent_e or re.search(r"[^aeiouytd]ed$", letters)):
        count -= 1
    return max(count, 1)


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade level of `text`, counting syllables as vowel groups.

    Clamped at 0.0 (also for text without words): a negative grade means nothing to a reader.
    """
    sentences = [s for s in _SENTENCE_END.split(text) if _WORD.search(s)]
    words = _WORD.findall(text)
    if not words:
        return 0.0
    syllables = sum(_syllables(word) for word in words)
    grade = 0.39 * len(words) / len(sentences) + 11.8 * syllables / len(words) - 15.59
    return max(grade, 0.0)


def _clock(match: re.Match[str]) -> str | None:
    if match["noon"] or match["midnight"]:
        return "12:00" if match["noon"] else "00:00"
    hour = int(match["h"] or match["h24"] or match["hb"])
    minute = int(match["m"] or match["m24"] or 0)
    if match["ap"]:  # "13 pm" is no time at all: 99 fails the range check below
        hour = hour % 12 + (12 if match["ap"].lower() == "p" else 0) if hour <= 12 else 99
    elif 1 <= hour <= 6:
        hour += 12  # "at 3" in a school-day update means the afternoon
    return f"{hour:02d}:{minute:02d}" if hour <= 23 else None


def _next_update(text: str) -> tuple[bool, str | None, str]:
    """(says when, normalised clock time or None, excerpt) for the next-update commitment."""
    relative = None
    for sentence in _SENTENCE_END.split(text):
        if not (anchor := _ANCHOR.search(sentence)):
            continue
        # Prefer the first time after "update" ("briefing at 4, next update at 6"), else the last
        # before it ("at 3 pm we will send the next update").
        times = [match for match in _CLOCK.finditer(sentence) if _clock(match)]
        if times:
            after = [match for match in times if match.start() >= anchor.start()]
            match = after[0] if after else times[-1]
            return True, _clock(match), match.group(0).strip()
        relative = relative or _RELATIVE.search(sentence)
    return (True, None, relative.group(0)) if relative else (False, None, "")


_DAY_WORDS = _rx(rf"today|tonight|this (?:morning|afternoon|evening)|tomorrow|{_DAY}")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _stated_day(sentence: str, today: date) -> date | None:
    """The day a next-update sentence names, from ``today``: "tomorrow", "Friday", "tonight"."""
    match = _DAY_WORDS.search(sentence)
    if not match:
        return None
    word = match.group(0).lower()
    if word == "tomorrow":
        return today + timedelta(days=1)
    if word in _WEEKDAYS:
        return today + timedelta(days=(_WEEKDAYS.index(word) - today.weekday()) % 7)
    return today


def promise_differs(body: str, promised: datetime, now: datetime) -> Finding | None:
    """A warning when the text names a time or day for the next update other than the one
    being promised. ``promised`` and ``now`` are in the district's zone; the promised time is
    what the update clock and the status page show, so the text must not contradict it."""
    for sentence in _SENTENCE_END.split(body):
        anchor = _ANCHOR.search(sentence)
        if not anchor:
            continue
        stated_clock = _next_update(sentence)[1]
        stated_day = _stated_day(sentence, now.date())
        if stated_clock is None and stated_day is None:
            continue
        clock_differs = stated_clock is not None and stated_clock != f"{promised:%H:%M}"
        day_differs = stated_day is not None and stated_day != promised.date()
        if not (clock_differs or day_differs):
            return None
        promised_text = f"{promised:%A} at {promised:%-I:%M %p}".replace(":00 ", " ")
        reason = (
            f'The text says "{sentence.strip()}", but the promised next update is '
            f"{promised_text}. The update clock and the status page show the promised time: "
            "change the text or the promised time so that they agree."
        )
        return Finding("promise_differs", "Next update time differs from the promise", reason)
    return None


def _status(text: str) -> tuple[str | None, str]:
    """The current status and its excerpt: the last mention that is neither history
    ("was down") nor hoped for ("until it is restored")."""
    found: tuple[str | None, str] = (None, "")
    for match in _STATUS.finditer(text):
        # Only the same sentence counts as context for this mention.
        before = re.split(r"[.!?\n]", text[max(0, match.start() - 30) : match.start()])[-1]
        kind = match.lastgroup or ""
        not_now = _HOPED if kind == "restored" else _HISTORY
        if not any(rx.search(t) for rx in (_NOT_NOW, not_now) for t in (before, match.group(0))):
            found = (kind, match.group(0))
    return found


def extract_facts(text: str) -> Facts:
    """Pull the normalised status ("down", "degraded", "restored") and next update time
    ("HH:MM", 24-hour) out of a message, or None for whichever is not stated."""
    return Facts(status=_status(text)[0], next_update=_next_update(text)[1])


# Fixed title and advice per check, so the wording lives in one place.
_ADVICE = {
    "speculation": (
        "Guessing at the cause",
        "Early guesses often turn out wrong. Say what people will notice and what you are doing.",
    ),
    "restoration_promise": (
        "Promising a fix time",
        "A missed fix time becomes the story. Promise the time of the next update instead.",
    ),
    "blame": (
        "Blame or defensive wording",
        "Blame sounds defensive and makes people ask who is in charge. Say what you are doing.",
    ),
    "alarm_in_recovery": (
        "Alarm in a recovery note",
        "Services are stable now; calm words help people move on. Say what is back to normal "
        "and what still needs attention.",
    ),
    "public_post_mortem": (
        "Post-mortem in a public message",
        "Learn privately, stabilise publicly. How it happened, which product or vendor failed, "
        "who made a mistake and what happens to them belong in the private review and the "
        "board's briefing: in public they reopen the incident. Say what is back to normal and "
        "that a review will follow.",
    ),
    "no_next_update": (
        "No time for the next update",
        'People stay calmer knowing when they will hear from you. Add "next update at 2 pm".',
    ),
}


def _excerpts(patterns: Sequence[re.Pattern[str]], body: str) -> list[str]:
    """Matched phrases in order, overlapping matches merged into one, exact repeats dropped."""
    merged: list[list[int]] = []
    for match in sorted((m for p in patterns for m in p.finditer(body)), key=re.Match.start):
        if merged and match.start() < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], match.end())
        else:
            merged.append(list(match.span()))
    return list(dict.fromkeys(body[start:end] for start, end in merged))


def _phrases(code: str, patterns: Sequence[re.Pattern[str]], body: str) -> list[Finding]:
    return [Finding(code, *_ADVICE[code], text) for text in _excerpts(patterns, body)]


def _guesses(body: str) -> list[re.Pattern[str]]:
    """A pattern for each sentence that both hedges and names a cause, so the whole sentence
    is the excerpt of the guess."""
    return [
        re.compile(re.escape(sentence.strip()))
        for sentence in _SENTENCE_END.split(body)
        if _HEDGE.search(sentence) and _CAUSAL.search(sentence)
    ]


def _jargon(body: str, audience: str) -> list[Finding]:
    reader = _AUDIENCE_NAMES.get(audience, audience)
    tip = 'Say what people will notice instead, like "students cannot sign in".'
    return [
        Finding("jargon", "Technical word", f'"{term}" may mean nothing to {reader}. {tip}', term)
        for term in _excerpts([_JARGON], body)
    ]


def _sms(body: str) -> Finding | None:
    info = sms_segments(body)
    if info.segments <= 1:
        return None
    reason = (
        f"This text will arrive as {info.segments} separate messages ({info.encoding}, "
        f"{info.characters} characters, {info.per_segment} per message). Shorten it to one."
    )
    odd = list(dict.fromkeys(ch for ch in body if ch not in _GSM))
    if odd:
        # One stray curly quote or accent is the usual culprit: name it so it can be replaced.
        named = ", ".join(f"{ch} ({unicodedata.name(ch, 'unknown').lower()})" for ch in odd[:3])
        reason += f" UCS-2, which fits far less, is forced by {named}: use plain characters."
    title = f"Text splits into {info.segments} messages"
    return Finding("sms_segments", title, reason, odd[0] if len(odd) == 1 else "")


def _facts_disagree(body: str, audience: str, others: Mapping[str, Facts]) -> list[Finding]:
    findings, own = [], {"status": _status(body), "next_update": _next_update(body)[1:]}
    for field, (mine, excerpt) in own.items():
        differing = [
            f'{_AUDIENCE_NAMES.get(name, name)} says "{getattr(facts, field)}"'
            for name, facts in sorted(others.items())
            if name != audience and getattr(facts, field) not in (None, mine)
        ]
        if mine is not None and differing:
            reason = (
                f'This message gives the {field.replace("_", " ")} as "{mine}", but the update '
                f"for {'; '.join(differing)}. People compare messages: make them match, or "
                "ignore this if the difference is on purpose."
            )
            findings.append(Finding("facts_disagree", "Facts differ by audience", reason, excerpt))
    return findings


# Words beyond which an update is long for its readers: about a minute of reading, what a
# phone shows in two screens. A board update carries governance detail and may run longer.
LONG_WORDS = {"staff": 150, "families": 150, "media": 150, "board": 250}
# How many times the audience's usual length makes an update "far longer than usual".
USUAL_TIMES = 2.5


def _overcorrection(
    body: str, audience: str, phase: str, previous_lengths: Sequence[int], lapsed: bool
) -> Finding | None:
    """Silence followed by overcorrection: a long update after a promised time has passed, a
    long first update in Phase 1, or one far longer than the audience usually gets."""
    words, limit = len(_WORD.findall(body)), LONG_WORDS[audience]
    advice = (
        "Too much detail at once buries what changed and sets an expectation every later "
        "update must meet. Say what people will notice, what to do, and when you will update "
        "next; keep the detail for the private review."
    )
    if words > limit and lapsed:
        reason = (
            f"The promised update time has passed, and this catch-up runs {words} words (about "
            f"{limit} is long for {_AUDIENCE_NAMES.get(audience, audience)}). {advice}"
        )
        return Finding("overcorrection", "Long catch-up after a silence", reason)
    if words > limit and not previous_lengths and phase == "control":
        reason = (
            f"This first update runs {words} words (about {limit} is long for "
            f"{_AUDIENCE_NAMES.get(audience, audience)}). Early updates work when they are "
            f"short and regular. {advice}"
        )
        return Finding("overcorrection", "Long first update", reason)
    usual = statistics.median(previous_lengths) if previous_lengths else 0
    if usual > 0 and len(body) > USUAL_TIMES * usual:
        reason = (
            f"This is {len(body) / usual:.1f} times your usual update to this audience (about "
            f"{usual:.0f} characters). {advice}"
        )
        return Finding("overcorrection", "Much longer than usual", reason)
    return None


def check(
    *,
    body: str,
    audience: str,
    channel: str,
    phase: str,
    previous_lengths: Sequence[int] = (),
    other_audiences: Mapping[str, Facts] = {},
    lapsed: bool = False,
) -> list[Finding]:
    """Return the warnings for one draft in a stable order (empty when clean; also for a blank
    body). ``previous_lengths``: the lengths of the updates the audience already had, oldest
    first; ``lapsed``: the audience's promised update time has passed (it is in silence).
    Raises ValueError for an unknown audience, channel or phase: a programming error."""
    for value, allowed in ((audience, AUDIENCES), (channel, CHANNELS), (phase, PHASES)):
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of {allowed}")
    if not body.strip():
        return []
    findings: list[Finding] = []
    if phase == "control":  # later on, the cause is known and a restore time is a fact
        findings += _phrases("speculation", [_SPECULATION, *_guesses(body)], body)
        findings += _phrases("restoration_promise", _PROMISES, body)
    findings += _phrases("blame", [_BLAME], body)
    if phase == "recovery":
        findings += _phrases("alarm_in_recovery", [_ALARM], body)
    if audience in _PUBLIC:
        # In Phase 1 a cause is a guess (the speculation check says so); from Phase 2 on it is
        # a post-mortem. Accountability talk is out of place in public at any time.
        patterns = [_ACCOUNTABILITY] if phase == "control" else [_POST_MORTEM, _ACCOUNTABILITY]
        findings += _phrases("public_post_mortem", patterns, body)
    if audience in ("families", "media"):
        findings += _jargon(body, audience)
    # Every channel needs it: a short text or voice message still promises a rhythm.
    if not _next_update(body)[0] and not _FINAL.search(body):
        findings.append(Finding("no_next_update", *_ADVICE["no_next_update"]))
    if overcorrection := _overcorrection(body, audience, phase, previous_lengths, lapsed):
        findings.append(overcorrection)
    if channel == "sms" and (segments := _sms(body)):
        findings.append(segments)
    # Under about 20 words the formula swings wildly on one long word, so skip short texts.
    long_enough = len(_WORD.findall(body)) >= 20
    if audience == "families" and long_enough and (grade := round(reading_grade(body), 1)) > 8:
        reason = f"This reads at about grade {grade:.1f}; aim for 8 or below with shorter "
        reason += "sentences and everyday words."
        findings.append(Finding("reading_grade", "Hard to read for families", reason))
    return findings + _facts_disagree(body, audience, other_audiences)
