"""Keyword-based, deterministic and explainable escalation analysis of a customer conversation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ticketdesk.models.enums import DEFAULT_PRIORITY, Category, Priority

__all__ = ["Analysis", "analyze"]


@dataclass(frozen=True)
class Analysis:
    """Outcome of `analyze`: what to do with the conversation and the keywords that explain why."""

    should_escalate: bool
    category: Category
    priority: Priority
    matched_keywords: tuple[str, ...]
    suggested_subject: str


@dataclass(frozen=True, slots=True)
class _Rule:
    keyword: str  # canonical table keyword reported in `matched_keywords`
    category: Category | None  # None marks an urgency marker
    pattern: re.Pattern[str]
    question_safe: bool  # product vocabulary: ignored inside a harmless how-to question


def _rule(keyword: str, category: Category | None, *alts: str, question_safe: bool = False) -> _Rule:
    return _Rule(keyword, category, re.compile(r"\b(?:" + "|".join(alts) + r")\b"), question_safe)


# Patterns run on normalized text: lower case, apostrophes removed ("can't" -> "cant"), hyphens as
# spaces, runs of 3+ equal letters collapsed to one ("hackeddd" -> "hacked"; hence `ac+ount`, `er+or`).
_NEG = (
    r"(?:no|not|never|without|nothing|cannot"
    r"|(?:do|does|did|is|was|were|are|has|have|had|ca|could|would|should|wo|ai)nt)"
)
# Up to three filler words (amounts included) that are not negators: "transfer didnt fail" is no failure.
_FILL = rf"(?:(?!{_NEG}\b)[$\u00a3\u20ac]?\w+(?:[.,]\d+)*\s+){{0,3}}?"
_ACC = r"ac+ounts?"
_PAY = r"(?:transfer|payment|transaction|wire|direct\s+debit)s?"
_PAY_FAILED = (
    r"(?:fail(?:s|ed|ing|d)?|declined|bounced|rejected|reversed|stuck|missing|never\s+(?:arrived|went\s+through)"
    r"|(?:did|does|has|have|wo|will|would|is|was)\s*(?:nt|not)\s+(?:go|gone|went|come|came|been)\s+through"
    r"|(?:did|has|have)\s*(?:nt|not)\s+(?:arrive|arrived|show(?:n|ed)?\s+up))"
)
_LOGIN = (
    r"(?:log+(?:ing|ed)?\s*(?:in|on)(?:to)?|logon|sign(?:ing|ed)?\s*(?:in|on)(?:to)?"
    r"|get\s+(?:back\s+)?into|get\s+back\s+in)"
)
_UNABLE = (
    r"(?:cant|cannot|can\s+not|couldnt|could\s+not|unable\s+to|not\s+able\s+to|failed\s+to|fails\s+to"
    r"|(?:wont|will\s+not|doesnt|does\s+not)\s+let\s+me|trouble|problems?|issues?|difficulty)"
)
_SEC, _BANK, _ACCESS, _APP = (
    Category.SECURITY_CONCERN,
    Category.BANKING_ISSUE,
    Category.ACCOUNT_ACCESS,
    Category.APP_ERROR,
)
# Table order doubles as the tie-break order between categories of equal priority.
_TABLE_ORDER: tuple[Category, ...] = (_SEC, _BANK, _ACCESS, _APP)
_RULES: tuple[_Rule, ...] = (
    _rule(
        "unauthorized",
        _SEC,
        r"unauthori[sz](?:ed|ation)",
        r"(?:didnt|did\s+not|never|not)\s+authori[sz]ed?",
        r"(?:didnt|did\s+not|never)\s+(?:make|made|approve|approved)\s+(?:this|that|these|those)",
    ),
    # "how do I report fraud?" is deliberately NOT question-safe: people ask that right after spotting
    # fraud, and a needless escalation costs an agent minutes while a missed fraud costs the customer money.
    _rule("fraud", _SEC, r"fraud\w*", r"scam(?:s|med|mer|mers)?", r"phish\w*"),
    _rule("hacked", _SEC, r"hack(?:ed|d|ing|er|ers)", r"compromised"),
    _rule(
        "suspicious",
        _SEC,
        r"sus+pi?ci?ous(?:ly)?",
        r"(?:dont|do\s+not|didnt|did\s+not)\s+recogni[sz]e",
        r"unrecogni[sz]ed",
        r"(?:strange|weird|odd)\s+(?:transaction|charge|payment|login|activity)s?",
    ),
    _rule(
        "security concern",
        _SEC,
        r"security\s+(?:concern|issue|problem|breach|risk|threat)s?",
        r"(?:data\s+)?breach",
        r"stole|stolen|theft",
    ),
    _rule(
        "transfer failed",
        _BANK,
        rf"{_PAY}\s+{_FILL}{_PAY_FAILED}",
        rf"(?:failed|declined|unsuccessful|rejected|bounced)\s+(?:card\s+)?{_PAY}",
        rf"card\s+{_FILL}(?:declined|rejected)",
        rf"{_UNABLE}\s+(?:make|send|complete)\s+(?:an?\s+|my\s+|the\s+)?{_PAY}",
    ),
    _rule("deposit", _BANK, r"deposit(?:s|ed|ing|e)?", question_safe=True),
    _rule("withdrawal", _BANK, r"withdraw(?:al|als|l|ls|el|els|ing|n|s)?|withdrew", question_safe=True),
    _rule(
        "account locked",
        _BANK,
        rf"(?:{_ACC}|cards?)\s+(?:(?:is|was|has|have|been|got|gets|being|now|just|still)\s+){{0,3}}"
        r"(?:locked|blocked|frozen|froze|suspended|disabled|deactivated|restricted)(?!\s+out\b)",
        rf"(?:locked|blocked|froze|frozen|suspended|disabled|restricted)\s+(?:my|the|our)\s+(?:{_ACC}|card)",
    ),
    _rule(
        "balance wrong",
        _BANK,
        r"balance\s+(?:(?:is|was|looks|seems|shows|showing|still|now)\s+){0,2}(?:\w+\s+)?"
        r"(?:wrong|incorrect|inaccurate|off|missing|not\s+(?:right|correct))",
        r"(?:wrong|incorrect|inaccurate)\s+balance",
        r"balance\s+(?:doesnt|does\s+not|didnt|did\s+not|isnt|is\s+not|hasnt|has\s+not)\s+(?:match|add|update|right)\w*",
        r"(?:money|funds?)\s+(?:(?:is|are|has|have|was|were|just)\s+)?(?:missing|disappeared|vanished|gone)",
        r"missing\s+(?:money|funds)",
    ),
    _rule(
        "cannot login",
        _ACCESS,
        rf"{_UNABLE}\s+(?:\w+\s+){{0,2}}?{_LOGIN}",
        rf"{_LOGIN}\s+(?:(?:is|was|keeps|just|still)\s+)?(?:fail\w*|not\s+working|doesnt\s+work|broken)",
    ),
    _rule("locked out", _ACCESS, r"lock(?:ed)?\s*(?:me\s+|myself\s+|us\s+)?out"),
    _rule(
        "forgot password",
        _ACCESS,
        r"(?:forgot|forgotten|forget|lost|(?:dont|do\s+not|cant|cannot|can\s+not)\s+(?:remember|recall))\s+"
        r"(?:my\s+|the\s+)?(?:pas+word|pas+code|pwd|pin|login|credentials|username)s?",
        r"(?:pas+word|pas+code|pin)\s+(?:(?:is|was)\s+)?(?:forgot|forgotten|lost)",
    ),
    _rule("account access", _ACCESS, rf"{_ACC}\s+access", question_safe=True),
    _rule(
        "account access",
        _ACCESS,
        r"(?:lost|no|without|regain|recover|restore)\s+access",
        rf"{_UNABLE}\s+(?:\w+\s+)?access\s+(?:my|the|our)",
        r"access\s+denied",
    ),
    _rule("error", _APP, r"er+or(?:s|ed|ing)?"),
    _rule(
        "crash",
        _APP,
        r"crash(?:es|ed|ing|in|d|y)?",
        r"(?:app|it|screen)\s+(?:(?:keeps|kept|just|always)\s+)?(?:freez(?:es|ing|e)|froze|hangs|hanging)",
        r"(?:keeps|kept)\s+(?:closing|freezing|shutting\s+down)",
    ),
    _rule("bug", _APP, r"bug(?:s|gy|ged)?(?!\s+(?:you|u|ya|me)\b)", r"glitch\w*"),
    _rule("failed", _APP, r"fail(?:s|ed|ing|ure|ures|d)?", r"unsuccessful"),
    _rule("exception", _APP, r"exceptions?(?!\s+of\b)"),  # "with the exception of" is plain English
    _rule(
        "not working",
        _APP,
        r"broken",
        r"malfunction\w*",
        r"(?:not|isnt|is\s+not|doesnt|does\s+not|dont|do\s+not|didnt|did\s+not|wont|will\s+not|stopped|no\s+longer"
        r"|arent|are\s+not)\s+work(?:s|ing|ed)?",
        r"(?:not|isnt|wont|will\s+not|doesnt|does\s+not)\s+(?:load|open|respond)\w*",
    ),
    _rule("urgent", None, r"urgent(?:ly)?", r"urgency"),
    _rule("critical", None, r"critical(?:ly)?"),
    _rule("emergency", None, r"emergenc(?:y|ies)(?!\s+(?:fund|funds|savings|pot|contact)\b)"),
    _rule("asap", None, r"asap", r"as\s+soon\s+as\s+possible"),
    # "do transfers arrive immediately?" is a product question, so this marker is question-safe.
    _rule("immediately", None, r"im+ediate(?:ly)?", question_safe=True),
)
# A negator up to two filler words before a keyword cancels it ("no errors", "wasnt hacked", "not urgent");
# content words break the link, so "never received my deposit" still counts.
_FILLER = r"(?:a|an|any|the|been|be|get|got|getting|had|have|seen|see|saw|ever|really|seems?|to|more|longer)"
_NEGATED = re.compile(rf"\b{_NEG}(?:\s+{_FILLER}){{0,2}}\s+$")
# A how-to / information question, possibly after a greeting or a leading clause; the bounded repeats
# keep the search linear on long unpunctuated text.
_HOWTO = re.compile(
    r"(?:^|[,;:])\W{0,5}(?:(?:hi|hello|hey|please|sorry|thanks|but|and|so|also|quick\s+question)\b\W{0,5}){0,3}"
    r"(?:how\s+(?:do|can|could|would|should|does|to|much|many|long|often)|where\s+(?:do|can|could|is|are)"
    r"|what(?:s|\s+is|\s+are|\s+does|\s+do)\b(?!\s+(?:going|wrong|happening|happened|up)\b)|is\s+it\s+possible"
    r"|is\s+there|are\s+there|(?:can|could)\s+(?:i|we|you)|do|does)\b"
)
# Trouble words turn a how-to question into a report ("how do I get my deposit back?").
_TROUBLE = re.compile(
    r"\b(?:problem|issue|wrong|missing|stuck|disappear|lost|late|delay|pending|never|still|yet|why|refund|back"
    r"|hasnt|havent|didnt|isnt|wasnt|recover|regain)\w*"
)
_SENTENCE = re.compile(r"(?:[^.!?\n]|(?<=\d)\.(?=\d))+[.!?]*")
_FIRST_SENTENCE = re.compile(r"(.+?[.!?])(?=\s|$)")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_ASAP_DOTTED = re.compile(r"\ba\.\s*s\.\s*a\.\s*p\b\.?")
_TRANSLATE = str.maketrans(dict.fromkeys("'`\u2019\u2018\u00b4") | {"-": " ", "_": " "})
_LABELS: dict[Category, str] = {
    _SEC: "Account security issue",
    _BANK: "Banking issue",
    _ACCESS: "Account access problem",
    _APP: "App error",
}


def _normalize(text: str) -> str:
    """Fold case, apostrophes, hyphens and letter repeats so patterns stay simple."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_TRANSLATE)
    return _REPEATS.sub(r"\1", _ASAP_DOTTED.sub("asap", text))


def _first_sentence(texts: Sequence[str]) -> str:
    """The first customer sentence, whitespace-collapsed and trimmed to about 80 characters."""
    for text in texts:
        flat = " ".join(text.split())
        found = _FIRST_SENTENCE.match(flat)
        sentence = (found.group(1) if found else flat).rstrip(".").strip()
        if len(sentence) > 80:
            sentence = sentence[:77].rsplit(" ", 1)[0].rstrip(",;:") + "..."
        if sentence:
            return sentence[:1].upper() + sentence[1:]
    return ""


def analyze(texts: Sequence[str]) -> Analysis:
    """Analyze the customer's own words (the caller passes only CUSTOMER messages and the summary)."""
    if isinstance(texts, str):  # a bare string is a Sequence[str] of characters: treat it as one text
        texts = (texts,)
    hits: list[tuple[int, int, int]] = []  # (start, end, rule index) in the joined normalized texts
    question = False
    base = 0
    for text in texts:
        norm = _normalize(text)
        for chunk in _SENTENCE.finditer(norm):
            s = chunk.group()
            howto = _HOWTO.search(s) is not None
            question = question or howto
            harmless = howto and _TROUBLE.search(s) is None
            offset = base + chunk.start()
            for index, rule in enumerate(_RULES):
                if harmless and rule.question_safe:
                    continue
                for m in rule.pattern.finditer(s):
                    if not _NEGATED.search(s, max(0, m.start() - 80), m.start()):
                        hits.append((offset + m.start(), offset + m.end(), index))
        base += len(norm) + 1
    # Earliest first, longest first at a tie; a hit inside an accepted phrase is dropped, so "transfer
    # failed" does not also report the generic "failed".
    hits.sort(key=lambda hit: (hit[0], hit[0] - hit[1], hit[2]))
    keywords: list[str] = []
    first_keyword: dict[Category | None, str] = {}
    end = -1
    for start, stop, index in hits:
        if start < end:
            continue
        end = stop
        rule = _RULES[index]
        first_keyword.setdefault(rule.category, rule.keyword)
        if rule.keyword not in keywords:
            keywords.append(rule.keyword)
    urgent = None in first_keyword
    found = [category for category in _TABLE_ORDER if category in first_keyword]
    if found:
        # max() keeps the first of equal maxima, and `found` is in table order: that is the tie-break.
        category = max(found, key=lambda c: DEFAULT_PRIORITY[c].rank)
        priority = DEFAULT_PRIORITY[category]
        if urgent and priority.rank < Priority.HIGH.rank:
            priority = Priority.HIGH
        subject = f"{_LABELS[category]} - {first_keyword[category]}"
        return Analysis(True, category, priority, tuple(keywords), subject[:255])
    sentence = _first_sentence(texts)
    if urgent:
        subject = f"Urgent request - {sentence}" if sentence else "Urgent request"
        return Analysis(True, Category.OTHER, Priority.HIGH, tuple(keywords), subject[:255])
    category = Category.FEATURE_QUESTION if question else Category.OTHER
    return Analysis(False, category, Priority.LOW, (), (sentence or "Support request")[:255])
