"""GET /mlapp/api/data/datasets: the catalog over REST, behind authentication."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError


async def test_lists_all_data_sets_sorted(jp_fetch):
    body = json.loads((await jp_fetch("mlapp", "api", "data", "datasets")).body)
    ids = [d["id"] for d in body["datasets"]]
    assert len(ids) == 757 and [i.lower() for i in ids] == sorted(i.lower() for i in ids)
    airq = next(d for d in body["datasets"] if d["id"] == "Airq")
    assert airq == {
        "id": "Airq",
        "title": "Air Quality for Californian Metropolitan Areas",
        "package": "Ecdat",
        "key": "Airq",
        "label": "Airq — Air Quality for Californian Metropolitan Areas",
    }


async def test_search_by_id_or_title(jp_fetch):
    body = json.loads((await jp_fetch("mlapp", "api", "data", "datasets", params={"q": "new york air"})).body)
    assert [d["id"] for d in body["datasets"]] == ["airquality"]


async def test_requires_authentication(jp_fetch):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("mlapp", "api", "data", "datasets", headers={"Authorization": ""})
    assert err.value.code in (401, 403)
