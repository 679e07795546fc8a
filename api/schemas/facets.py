"""Response bodies of GET /facets."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kb.facets import Facets


class FacetValuePublic(BaseModel):
    value: str
    count: int = Field(description="Documents with this value among those the filters pass.")


class FacetsPublic(BaseModel):
    total: int = Field(description="Documents the filters pass (that the caller may see).")
    facets: dict[str, list[FacetValuePublic]] = Field(
        description="doc_type, region, period, stage, classification: values, most frequent first.",
        examples=[{"doc_type": [{"value": "agreement", "count": 9}]}],
    )

    @classmethod
    def of(cls, facets: Facets) -> FacetsPublic:
        return cls(
            total=facets.total,
            facets={
                name: [FacetValuePublic(value=c.value, count=c.count) for c in counts]
                for name, counts in facets.counts.items()
            },
        )
