"""Tests of the keyword-based escalation analysis."""

from __future__ import annotations

import pytest

from ticketdesk.models.analysis import Analysis, analyze
from ticketdesk.models.enums import DEFAULT_PRIORITY, Category, Priority

SEC = Category.SECURITY_CONCERN
BANK = Category.BANKING_ISSUE
ACCESS = Category.ACCOUNT_ACCESS
APP = Category.APP_ERROR
QUESTION = Category.FEATURE_QUESTION
OTHER = Category.OTHER
LOW, MEDIUM, HIGH, CRITICAL = Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL

# (customer message, category, priority, should_escalate)
CASES: list[tuple[str, Category, Priority, bool]] = [
    # The seed's own examples.
    ("My account was hacked!", SEC, CRITICAL, True),
    ("My transfer didn't go through", BANK, HIGH, True),
    ("I'm locked out of my account", ACCESS, HIGH, True),
    ("The app keeps crashing", APP, MEDIUM, True),
    ("This is urgent!", OTHER, HIGH, True),
    # Inflections and typos.
    ("The app crashed twice this morning", APP, MEDIUM, True),
    ("it crashes every time I open my statements", APP, MEDIUM, True),
    ("app keeps crashin when I tap on cards", APP, MEDIUM, True),
    ("Someone is hacking my account right now", SEC, CRITICAL, True),
    ("i think i got hackd", SEC, CRITICAL, True),
    ("I want to report several frauds on my card", SEC, CRITICAL, True),
    ("My withdrawals are not showing up", BANK, HIGH, True),
    ("Getting errors on the payments screen", APP, MEDIUM, True),
    ("So many bugs since the last update", APP, MEDIUM, True),
    ("ERRRROR when opening the statements tab", APP, MEDIUM, True),
    ("I forgot my pasword", ACCESS, HIGH, True),
    ("Scammed by a fake seller, please help", SEC, CRITICAL, True),
    # Contractions, curly apostrophes and variants.
    ("I can't log in", ACCESS, HIGH, True),
    ("cant login since yesterday", ACCESS, HIGH, True),
    ("I can not sign in to the app", ACCESS, HIGH, True),
    ("Unable to log in after the update", ACCESS, HIGH, True),
    ("I couldn\u2019t login this morning", ACCESS, HIGH, True),
    ("I\u2019m unable to access my account", ACCESS, HIGH, True),
    ("My payment failed", BANK, HIGH, True),
    ("the transfer has failed again", BANK, HIGH, True),
    ("Transfer to my landlord did not go through", BANK, HIGH, True),
    ("The transfer of $1.50 failed", BANK, HIGH, True),
    ("My card got declined at the store", BANK, HIGH, True),
    ("My balance is wrong", BANK, HIGH, True),
    ("Money disappeared from my account", BANK, HIGH, True),
    ("They froze my account without telling me", BANK, HIGH, True),
    ("My deposit of $500.00 hasn't arrived yet", BANK, HIGH, True),
    ("I never authorized this payment", SEC, CRITICAL, True),
    ("Someone logged in from another country, looks suspicious", SEC, CRITICAL, True),
    ("I have a security concern about my card", SEC, CRITICAL, True),
    ("The app is not working", APP, MEDIUM, True),
    ("The app won't stop crashing", APP, MEDIUM, True),
    # Harmless mentions, questions and negations.
    ("How do I set up direct deposit?", QUESTION, LOW, False),
    ("What's the daily withdrawal limit?", QUESTION, LOW, False),
    ("Is it possible to withdraw cash abroad?", QUESTION, LOW, False),
    ("Where can I find my statements?", QUESTION, LOW, False),
    ("Hi, can I change my card PIN in the app?", QUESTION, LOW, False),
    ("How can I give my accountant account access?", QUESTION, LOW, False),
    ("Do transfers arrive immediately?", QUESTION, LOW, False),
    ("Can I open an emergency fund savings pot?", QUESTION, LOW, False),
    ("Sorry to bug you, how can I change my address?", QUESTION, LOW, False),
    ("Not urgent, but how do I update my email?", QUESTION, LOW, False),
    ("How do I get my deposit back? It was taken twice", BANK, HIGH, True),
    ("How do I report fraud?", SEC, CRITICAL, True),  # deliberately escalated, see the module
    ("Thanks, everything works fine now", OTHER, LOW, False),
    ("I saw a news story about terror attacks", OTHER, LOW, False),
    ("No errors anymore, thanks!", OTHER, LOW, False),
    ("My account was not hacked, I just want to update my address", OTHER, LOW, False),
    ("I didn't get any error, the transfer didn't fail", OTHER, LOW, False),
    ("Everything works, with the exception of dark mode", OTHER, LOW, False),
    # Several categories: the highest priority wins, then the table's order.
    ("I was hacked and now I can't log in", SEC, CRITICAL, True),
    ("The app crashed and my transfer failed", BANK, HIGH, True),
    ("I'm locked out and my deposit is missing", BANK, HIGH, True),
    ("There are two deposits I don't recognise", SEC, CRITICAL, True),
    # Urgency markers.
    ("URGENT!!! app keeps crashing", APP, HIGH, True),
    ("Please help asap, my account is hacked", SEC, CRITICAL, True),
    ("I've been locked out for 3 days, fix this A.S.A.P.", ACCESS, HIGH, True),
    ("Need this fixed immediately", OTHER, HIGH, True),
    ("This is an emergency", OTHER, HIGH, True),
    ("It's not urgent at all", OTHER, LOW, False),
    # Empty input.
    ("", OTHER, LOW, False),
    ("   \n\t ", OTHER, LOW, False),
]


@pytest.mark.parametrize(("text", "category", "priority", "escalate"), CASES, ids=[c[0][:40] for c in CASES])
def test_analyze_classifies_realistic_messages(
    text: str, category: Category, priority: Priority, escalate: bool
) -> None:
    result = analyze([text])
    assert (result.category, result.priority, result.should_escalate) == (category, priority, escalate)


def test_analyze_table_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    ("text", "keywords"),
    [
        ("My account was hacked!", ("hacked",)),
        ("My transfer didn't go through", ("transfer failed",)),
        ("I can't log in", ("cannot login",)),
        ("The app keeps crashing", ("crash",)),
        ("I was hacked and now I can't log in", ("hacked", "cannot login")),
        ("The app crashed and my transfer failed", ("crash", "transfer failed")),
        ("URGENT!!! app keeps crashing", ("urgent", "crash")),
        ("This is urgent!", ("urgent",)),
        ("How do I set up direct deposit?", ()),
    ],
)
def test_analyze_reports_canonical_keywords_in_first_match_order(text: str, keywords: tuple[str, ...]) -> None:
    assert analyze([text]).matched_keywords == keywords


def test_analyze_reports_each_keyword_once() -> None:
    result = analyze(["It crashed.", "It crashes again", "crash crash CRASH"])
    assert result.matched_keywords == ("crash",)


def test_analyze_combines_several_texts() -> None:
    texts = ["Hi", "", "my card payment failed", "Summary: failed payment, customer says it is urgent"]
    result = analyze(texts)
    assert (result.category, result.priority, result.should_escalate) == (BANK, HIGH, True)
    assert result.matched_keywords == ("transfer failed", "urgent")


def test_analyze_keeps_critical_when_urgent() -> None:
    assert analyze(["urgent", "my account got hacked"]).priority is CRITICAL


def test_analyze_seed_subject_for_hacked_account() -> None:
    assert analyze(["My account was hacked!"]).suggested_subject == "Account security issue - hacked"


def test_analyze_subject_names_category_and_first_keyword() -> None:
    assert analyze(["The app keeps crashing"]).suggested_subject == "App error - crash"
    assert analyze(["My transfer didn't go through"]).suggested_subject == "Banking issue - transfer failed"


def test_analyze_subject_from_first_sentence_when_nothing_matched() -> None:
    result = analyze(["  how do I set up   direct deposit? Thanks.", "Another text"])
    assert result.suggested_subject == "How do I set up direct deposit?"


def test_analyze_subject_for_urgent_only() -> None:
    assert analyze(["This is urgent!"]).suggested_subject == "Urgent request - This is urgent!"


def test_analyze_subject_is_trimmed_and_never_empty() -> None:
    long = analyze(["word " * 200]).suggested_subject
    assert long.endswith("...") and len(long) <= 80
    assert len(analyze(["x" * 1000]).suggested_subject) <= 255
    assert analyze([]).suggested_subject == "Support request"
    assert analyze(["  ", "..."]).suggested_subject == "Support request"


def test_analyze_empty_input() -> None:
    assert analyze([]) == Analysis(False, OTHER, LOW, (), "Support request")


def test_analyze_treats_a_bare_string_as_one_text() -> None:
    assert analyze("My account was hacked!") == analyze(["My account was hacked!"])


def test_analyze_is_deterministic() -> None:
    texts = ["I'm locked out and my deposit is missing", "urgent"]
    assert analyze(texts) == analyze(list(texts))


def test_analyze_word_boundaries() -> None:
    assert analyze(["terror in the debugger of a hackathon"]).matched_keywords == ()


def test_default_priority_matches_table() -> None:
    assert DEFAULT_PRIORITY == {
        Category.SECURITY_CONCERN: Priority.CRITICAL,
        Category.BANKING_ISSUE: Priority.HIGH,
        Category.ACCOUNT_ACCESS: Priority.HIGH,
        Category.TRANSACTION_ERROR: Priority.HIGH,
        Category.APP_ERROR: Priority.MEDIUM,
        Category.FEATURE_QUESTION: Priority.LOW,
        Category.OTHER: Priority.LOW,
    }


def test_enums_are_str_enums_whose_values_are_their_names() -> None:
    members: list[Category | Priority] = [*Category, *Priority]
    for member in members:
        assert isinstance(member, str) and member.value == member.name
    assert [p.rank for p in (LOW, MEDIUM, HIGH, CRITICAL)] == [0, 1, 2, 3]
