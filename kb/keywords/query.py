"""Reading a user's query: within its length limit, its terms and phrases, and the FTS5
expression built from them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.errors import InvalidRequestError

WORD = re.compile(r"\w+")
PHRASE = re.compile(r'"([^"]+)"')
MAX_TERMS = 64

# Common English function words: they carry no topic and only slow BM25's OR query.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves since also within among per via""".split()
)


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    terms: tuple[str, ...]
    phrases: tuple[str, ...]

    @property
    def highlight_terms(self) -> tuple[str, ...]:
        words = list(self.terms)
        for phrase in self.phrases:
            words.extend(w.lower() for w in WORD.findall(phrase))
        return tuple(dict.fromkeys(words))


def parse_query(text: str) -> ParsedQuery:
    """Quoted parts become phrases; the other words, less stopwords, become terms."""
    phrases = tuple(p.strip() for p in PHRASE.findall(text) if WORD.search(p))
    rest = PHRASE.sub(" ", text)
    words = [w.lower() for w in WORD.findall(rest)]
    terms = [w for w in words if w not in STOPWORDS] or words
    return ParsedQuery(text=text, terms=tuple(dict.fromkeys(terms))[:MAX_TERMS], phrases=phrases)


def fts_expression(query: ParsedQuery) -> str | None:
    """An FTS5 MATCH expression: any term or phrase (OR), each quoted so no user text is syntax."""
    parts = [quote(" ".join(WORD.findall(p))) for p in query.phrases]
    parts += [quote(term) for term in query.terms]
    return " OR ".join(parts) if parts else None


def quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def check_query(query: str, max_chars: int, what: str = "query") -> str:
    """A query (or a pack's theme) worth searching: not empty, and within the length limit,
    checked before anything reads or embeds it."""
    if len(query) > max_chars:
        raise InvalidRequestError(
            f"the {what} is {len(query):,} characters long; the limit is {max_chars:,} "
            "(KB_MAX_QUERY_CHARS)"
        )
    if not query.strip():
        raise InvalidRequestError(f"the {what} is empty")
    return query
