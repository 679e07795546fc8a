"""The searches of bench/scale.py: SciFact test queries, few-word crisis queries and long
briefs, some with filters, a third as a non-admin reader."""

from __future__ import annotations

import json
from typing import Any

from scale_corpus import SCIFACT

CRISIS = [
    "ceasefire monitoring", "refugee return", "climate change small islands",
    "nuclear disarmament", "sanctions relief", "humanitarian access", "terrorism financing",
    "election violence", "peacekeeping mandate renewal", "sustainable development goals",
    "migration crisis Mediterranean", "Syria political transition", "Ebola outbreak response",
    "malaria vaccine efficacy", "child soldiers reintegration", "water scarcity conflict",
    "food security drought", "women peace and security", "antibiotic resistance", "cyber attacks",
]  # fmt: skip
BRIEFS = [
    "A ceasefire between government forces and two armed groups collapsed after three weeks. "
    "Observers were too few to verify the separation of forces, displaced families cannot "
    "return to their villages, and a regional organisation offers to mediate. Which past "
    "agreements provided monitoring mechanisms, sequencing of withdrawal, and guarantees for "
    "the return of refugees and internally displaced persons?",
    "An island state faces rising sea levels, repeated cyclones and the loss of fresh water. "
    "Its government asks the international community for climate finance, debt relief and "
    "recognition of loss and damage. What commitments and programmes have been described, "
    "and what lessons exist on adaptation funding reaching small island developing states?",
    "A new respiratory virus spreads across a border region with weak health services. "
    "Vaccination coverage is low, clinics lack oxygen, and rumours undermine trust. What "
    "evidence exists on rapid vaccination campaigns, community health workers, and the "
    "effectiveness of public health measures in outbreaks?",
    "After a disputed election, protests turned violent and the opposition boycotts "
    "parliament. A power-sharing arrangement and a truth commission are proposed. Which "
    "precedents combined constitutional reform, transitional justice and security sector "
    "reform, and what did evaluations say about their implementation?",
]
FILTERS: list[dict[str, Any]] = [
    {}, {}, {"doc_type": "other"}, {}, {"region": "Africa"}, {}, {}, {"date_from": "2018",
    "date_to": "2022"}, {}, {"doc_type": "lessons-learned", "region": "Asia-Pacific"}, {}, {},
    {}, {}, {"region": "Latin America"},
]  # fmt: skip


def queries(count: int) -> list[tuple[str, dict[str, Any], bool]]:
    """(text, filters, as the reader?) for `count` searches: SciFact test queries, crisis
    queries and briefs mixed, some filtered, a third as the non-admin reader."""
    tested = {
        line.split("\t")[0]
        for line in (SCIFACT / "qrels" / "test.tsv").read_text().splitlines()[1:]
    }
    scifact = []
    with (SCIFACT / "queries.jsonl").open() as lines:
        for line in lines:
            row = json.loads(line)
            if row["_id"] in tested:
                scifact.append(row["text"])
    texts, s, c, b = [], 0, 0, 0
    for n in range(count):
        if n % 10 == 9:
            texts.append(BRIEFS[b % len(BRIEFS)])
            b += 1
        elif n % 3 == 1:
            texts.append(CRISIS[c % len(CRISIS)])
            c += 1
        else:
            texts.append(scifact[s % len(scifact)])
            s += 1
    return [(t, FILTERS[n % len(FILTERS)], n % 3 == 2) for n, t in enumerate(texts)]
