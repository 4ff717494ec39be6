"""Word lists the verification guards use: function words, opposites, numbers and dates.

General English, not tuned to any evaluation set: a cached answer is only as safe as the smallest word the guards
miss, so the lists err towards "these words change the answer".
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no answer-changing meaning of their own in a question: articles, auxiliaries, pronouns
# that do not name a person, question scaffolding and chat filler ("um", "please", "sorry to bother you").
FUNCTION_WORDS = _words(
    """a an the is are was were be been being am do does did doing done can could would should shall will
    may might must have has had having i me my mine myself you your yours we us our ours it its itself
    this that these those there here what which whom whose how of for at by with about as and or but if
    so then to in on also any some just really actually usually normally generally typically still ever
    even exactly quite please pls plz thanks thank thx cheers hi hello hey morning evening afternoon
    there um uh erm er hmm like okay ok well oh sorry bother silly question tell know let anyone someone
    somebody possible way go going get got able allowed wondering wonder want wanted need needed would
    like quick quickly help kindly again when where who why whether much many often far process
    procedure steps method"""
)

# Chat and politeness words that never change the answer ("Morning! how do I ..."). Kept apart from
# FUNCTION_WORDS because some are also time words: "morning" is filler at the start, a time of day elsewhere.
GREETING_WORDS = frozenset({"hi", "hello", "hey", "morning", "evening", "afternoon", "good", "yo", "there"})

# Prepositions are left out of the content words (their opposites — in/out, before/after — are caught by the
# opposites guard, which sees every word).
PREPOSITIONS = _words(
    """under over above below through via during within between across around near off out up down after
    before onto upon per since until till towards toward beside besides inside outside"""
)

# Time and place relations: replacing one by another ("within"/"after", "over"/"under") changes the answer,
# while adding one ("registered under Part P") usually does not.
RELATION_PREPOSITIONS = _words(
    """before after within during until till since by over under above below inside outside beyond between
    near"""
)

NEGATORS = frozenset({"not", "no", "never", "without", "none", "nothing", "nobody", "nowhere", "neither", "nor"})

# Verbs that negate the action they govern: "Should I *stop* watering ...", "Which foods should I *avoid*": on one
# side only they flip the question as "not" does, so they count towards its polarity (stems).
NEGATING_VERBS = frozenset({"avoid", "stop", "quit", "skip", "ceas", "refrain"})

# Prefixes and suffixes that turn a word into its opposite (safe/unsafe, refundable/non-refundable).
NEGATING_PREFIXES = ("un", "non", "non-", "in", "im", "il", "ir", "dis", "de", "mis", "anti", "anti-")

# Pairs of opposites common in support and workplace questions. Each set is one side of an opposition, so
# "open" and "closed" clash while "closed" and "shut" do not.
_OPPOSITES: tuple[tuple[frozenset[str], frozenset[str]], ...] = tuple(
    (frozenset(a.split()), frozenset(b.split()))
    for a, b in (
        ("open opens opening opened", "close closes closed closing shut"),
        ("include includes included including inclusive", "exclude excludes excluded excluding exclusive"),
        ("add adds added adding", "remove removes removed removing delete deletes deleted deleting"),
        (
            "increase increases increased increasing raise raising higher more bigger larger",
            "decrease decreases decreased decreasing reduce reduced reducing lower lowering less fewer smaller",
        ),
        (
            "allow allows allowed allowing permit permitted accept accepts accepted",
            "ban bans banned forbid forbidden prohibit prohibited block blocked reject rejected refuse refused deny "
            "denied decline declined",
        ),
        ("approve approves approved approval", "reject rejects rejected rejection deny denied refuse refused"),
        ("buy buys buying bought purchase", "sell sells selling sold"),
        ("best top", "worst bottom"),
        ("most maximum max", "least minimum min"),
        ("hot warm heat", "cold cool chilly"),
        (
            "start starts started starting begin begins beginning",
            "stop stops stopped stopping end ends ending finish finishes finished cancel cancels cancelled canceled",
        ),
        (
            "join joins joined joining enrol enroll enrolled subscribe subscribed",
            "leave leaves leaving left quit withdraw withdraws withdrawn unsubscribe",
        ),
        ("pass passes passed", "fail fails failed failing"),
        ("win wins won winning", "lose loses lost losing"),
        ("before prior earlier early", "after later late"),
        ("first", "last final"),
        ("high", "low"),
        ("up", "down"),
        (
            "in inside internal incoming inbound import imports imported entry entrance",
            "out outside external outgoing outbound export exports exported exit",
        ),
        ("on", "off"),
        ("upload uploads uploaded", "download downloads downloaded"),
        ("upgrade upgrades upgraded", "downgrade downgrades downgraded"),
        ("push", "pull"),
        ("send sends sent sending", "receive receives received receiving"),
        ("lend lends lent", "borrow borrows borrowed"),
        ("arrive arrives arrival arrivals", "depart departs departure departures"),
        ("compulsory mandatory required", "optional voluntary"),
        ("public", "private"),
        ("true", "false"),
        ("yes", "no"),
        ("busy", "quiet"),
        ("full", "empty"),
        ("credit credits", "debit debits"),
        ("income", "expense expenses expenditure"),
        ("profit profits gain gains", "loss losses"),
        ("positive", "negative"),
        ("men men's male man", "women women's female woman"),
        ("day daytime", "night nighttime overnight"),
        ("light", "dark heavy"),
        ("new newest", "old oldest"),
        ("young younger youngest", "old older oldest elderly"),
        ("big large", "small little"),
        ("long longer longest", "short shorter shortest"),
        ("fast faster fastest quick quicker", "slow slower slowest"),
        ("cheap cheaper cheapest", "expensive"),
        ("easy easier easiest simple", "hard harder difficult complex"),
        ("strong stronger", "weak weaker"),
        ("front", "back rear"),
        ("left", "right"),
        ("north northern", "south southern"),
        ("east eastern", "west western"),
        ("above over", "below under"),
        ("succeed success successful", "fail failure failed"),
        ("present", "absent"),
        ("remember", "forget"),
        ("hire hired", "fire fired dismiss dismissed"),
        ("safe", "dangerous risky"),
        ("legal lawful", "illegal unlawful"),
        ("valid", "invalid expired"),
        ("eat", "avoid"),
        ("pay paid payment", "refund refunded refunds"),
        ("outstanding excellent good", "inadequate poor bad"),
        ("online", "offline paper"),
        ("weekday weekdays", "weekend weekends"),
        ("adult adults", "child children kid kids minor minors"),
        ("lock locked", "unlock unlocked"),
        ("enable enabled", "disable disabled"),
        ("connect connected", "disconnect disconnected"),
        ("encrypt encrypted", "decrypt decrypted"),
        ("install installed", "uninstall uninstalled"),
        ("merge merged", "split"),
        ("login signin", "logout signout"),
        ("optin", "optout"),
        ("checkin", "checkout"),
        ("landlord landlords", "tenant tenants renter renters"),
        ("buyer buyers", "seller sellers vendor"),
        ("employer employers", "employee employees staff"),
        ("sender", "recipient receiver"),
        ("parent parents", "child children kid kids"),
        ("teacher teachers", "student students pupil pupils"),
        ("doctor doctors", "patient patients"),
        ("host", "guest guests"),
    )
)


# Near-synonyms common in requests to a helpdesk or a workplace assistant. Word embeddings cannot tell
# "update"/"change" (same request) from "red"/"blue" (different answers): both score about 0.6-0.7, so the
# alignment stage accepts an embedding match only above a high bar and takes these everyday pairs from here.
_SYNONYMS: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "change update modify edit amend alter switch",
        "mute silence",
        "deliver delivery delivered ship shipping shipped postage",
        "cancel terminate end",
        "delete remove erase",
        "send submit email",
        "file submit",
        "start begin commence",
        "price cost charge fee fees prices costs charges",
        "buy purchase",
        "get obtain receive",
        "book reserve booking reservation",
        "fix repair mend",
        "phone call telephone ring",
        "find locate",
        "register enrol enroll signup",
        "login signin",
        "logout signout",
        "install setup",
        "author writer wrote write written",
        "dispute challenge contest",
        "luggage baggage bags",
        "show display",
        "help assist support",
        "grade result mark score",
        "shut close",
        "disable deactivate",
        "enable activate",
        "mistake error",
        "problem issue",
        "quick fast",
        "refund reimbursement",
        "doc document",
        "app application",
        "pic picture photo image",
    )
)


def are_synonyms(a: str, b: str, stem: Callable[[str], str] | None = None) -> bool:
    """Same synonym group, comparing stems when ``stem`` is given ("submitting" meets "file")."""
    if any(a in group and b in group for group in _SYNONYMS):
        return True
    if stem is None:
        return False
    sa, sb = stem(a), stem(b)
    return any(sa in stems and sb in stems for stems in _synonym_stems(stem))


_SYNONYM_STEMS: dict[int, tuple[frozenset[str], ...]] = {}


def _synonym_stems(stem: Callable[[str], str]) -> tuple[frozenset[str], ...]:
    key = id(stem)
    if key not in _SYNONYM_STEMS:
        _SYNONYM_STEMS[key] = tuple(frozenset(stem(w) for w in group) for group in _SYNONYMS)
    return _SYNONYM_STEMS[key]


# word -> the (opposition, side) pairs it belongs to, so a lookup costs two dict reads, not a scan of the list
# (the guards and the typo test ask about every pair of unmatched words).
_SIDES: dict[str, frozenset[tuple[int, int]]] = {}
for _index, _pair in enumerate(_OPPOSITES):
    for _side, _group in enumerate(_pair):
        for _word in _group:
            _SIDES[_word] = _SIDES.get(_word, frozenset()) | {(_index, _side)}


def are_opposites(a: str, b: str) -> bool:
    """True when the two words sit on opposite sides of one listed opposition."""
    sides_b = _SIDES.get(b, frozenset())
    return any((index, 1 - side) in sides_b for index, side in _SIDES.get(a, ()))


def negated_forms(word: str) -> set[str]:
    """The prefixed forms that negate ``word`` (safe → unsafe, refundable → nonrefundable)."""
    base = word.replace("-", "")
    return {prefix.replace("-", "") + base for prefix in NEGATING_PREFIXES}


@lru_cache(maxsize=65536)
def is_morphological_opposite(a: str, b: str) -> bool:
    a2, b2 = a.replace("-", ""), b.replace("-", "")
    if len(a2) < 4 or len(b2) < 4:
        return False
    if a2 in negated_forms(b2) or b2 in negated_forms(a2):
        return True
    # careful/careless, useful/useless
    return (a2.endswith("ful") and b2 == a2[:-3] + "less") or (b2.endswith("ful") and a2 == b2[:-3] + "less")


NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "dozen": 12,
    "half": 0.5,
    "quarter": 0.25,
    "fortnight": 14,
    "single": 1,
    "double": 2,
    "triple": 3,
    "twice": 2,
    "once": 1,
    "couple": 2,
    "both": 2,
}
ORDINAL_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "twentieth": 20,
    "thirtieth": 30,
}
# Durations compared in days so "14 days" and "two weeks" agree.
DURATION_UNITS = {
    "minute": 1 / 1440,
    "minutes": 1 / 1440,
    "min": 1 / 1440,
    "mins": 1 / 1440,
    "hour": 1 / 24,
    "hours": 1 / 24,
    "hr": 1 / 24,
    "hrs": 1 / 24,
    "day": 1,
    "days": 1,
    "week": 7,
    "weeks": 7,
    "fortnight": 14,
    "month": 30,
    "months": 30,
    "year": 365,
    "years": 365,
}
# Units folded into the number they follow, so "2kg" and "2 kilos" agree and "2kg" and "2lb" do not.
UNIT_ALIASES = {
    alias: unit
    for unit, aliases in {
        "kg": "kg kgs kilo kilos kilogram kilograms",
        "g": "g gram grams",
        "lb": "lb lbs",
        "ml": "ml millilitre millilitres milliliter milliliters",
        "l": "l litre litres liter liters",
        "km": "km kms kilometre kilometres kilometer kilometers",
        "mi": "mile miles",
        "m": "metre metres meter meters",
        "gb": "gb gig gigs gigabyte gigabytes",
        "mb": "mb megabyte megabytes",
        "tb": "tb terabyte terabytes",
        "x": "x times",
    }.items()
    for alias in aliases.split()
}

DATE_WORDS = _words(
    """monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays thursdays
    fridays saturdays sundays weekday weekdays weekend weekends january february march april june july
    august september october november december jan feb mar apr jun jul aug sep sept oct nov dec today
    tonight tomorrow yesterday noon midday midnight spring summer autumn winter christmas easter"""
)
