"""A small corpus for the interface tests: five short documents with sidecars."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.docs import write


@dataclass(frozen=True)
class Sample:
    document_id: str
    text: str
    sidecar: dict[str, Any] = field(default_factory=dict)


AUREL = "aurel-ceasefire"
COASTAL = "coastal-power-sharing"
DDR = "highlands-ddr-evaluation"
DELTA = "delta-mediation-lessons"
REFUGEE = "refugee-return-note"

SAMPLES = (
    Sample(
        AUREL,
        "# Aurel Highlands Ceasefire Agreement\n\n"
        "## Article 1 Ceasefire\n\n"
        "The parties agree to a complete ceasefire across the highlands. Joint monitoring "
        "teams of unarmed observers will verify the withdrawal of heavy weapons from the "
        "valley roads.\n\n"
        "## Article 2 Demobilisation\n\n"
        "Combatants of the Liberation Front will assemble in cantonment sites and hand over "
        "their weapons to the monitoring mission within ninety days.\n",
        {
            "title": "Aurel Highlands Ceasefire Agreement",
            "doc_type": "agreement",
            "date": "1998-04-10",
            "region": "Aurel Highlands",
            "parties": ["Aurel Liberation Front", "Government of Aurelia"],
            "stage": "ceasefire",
        },
    ),
    Sample(
        COASTAL,
        "# Coastal Plains Power-Sharing Accord\n\n"
        "The signatories establish a transitional government of national unity in which "
        "cabinet posts are shared between the ruling party and the opposition coalition. "
        "A federal constitution will devolve revenue from fisheries and ports to provincial "
        "assemblies. Elections will be held within two years under international supervision.\n",
        {
            "doc_type": "agreement",
            "date": "2005-06-01",
            "region": "Coastal Plains",
            "parties": ["Ruling Party", "Opposition Coalition"],
            "stage": "comprehensive",
        },
    ),
    Sample(
        DDR,
        "# Evaluation of the Highlands Reintegration Programme\n\n"
        "This evaluation reviews the disarmament, demobilisation and reintegration programme "
        "that followed the ceasefire. Former combatants received vocational training and small "
        "grants, but many returned to armed groups when payments were delayed. "
        "Community-based reintegration worked better than cash transfers alone.\n",
        {
            "doc_type": "evaluation",
            "date": "2012-09-15",
            "region": "Aurel Highlands",
            "programme": "Highlands Reintegration Programme",
        },
    ),
    Sample(
        DELTA,
        "# Lessons from the Northern Delta Mediation\n\n"
        "Mediators learned that including women's organisations and local elders early made "
        "the talks more legitimate. Confidence-building measures such as prisoner exchanges "
        "preceded any discussion of territory. Back-channel talks kept the process alive when "
        "the formal negotiations stalled.\n",
        {"doc_type": "lessons-learned", "date": "2019-03-01", "region": "Northern Delta"},
    ),
    Sample(
        REFUGEE,
        "# Refugee Return Guidance Note\n\n"
        "Displaced families returning to the coast need restitution of land and property. "
        "The archive copy of this note was scraped from a web page and still contains the "
        "fragment <script>alert('returnees')</script> next to the advice on land restitution.\n",
        {"doc_type": "other", "date": "1994", "region": "Coastal Plains"},
    ),
)

ALL_IDS = frozenset(s.document_id for s in SAMPLES)
# GET /documents lists newest first.
NEWEST_FIRST = (DELTA, DDR, COASTAL, AUREL, REFUGEE)


def write_corpus(folder: Path) -> Path:
    """Each sample as NAME.md with a NAME.meta.json sidecar; returns the folder."""
    for sample in SAMPLES:
        write(folder, f"{sample.document_id}.md", sample.text)
        write(folder, f"{sample.document_id}.meta.json", json.dumps(sample.sidecar))
    return folder
