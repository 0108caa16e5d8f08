"""``async with FakeHub.start(...)`` for async tests, and parallel clients."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from fakehub_helpers import TOKEN

from ghw.fakehub import FakeHub


async def test_async_context_manager_and_concurrent_requests(tmp_path: Path) -> None:
    async with FakeHub.start(data_dir=tmp_path / "d", seed="demo") as hub:
        hub.control.bulk_create_issues("demo/calc", [{"title": f"t{n}"} for n in range(300)])
        async with httpx.AsyncClient(
            base_url=hub.base_url, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as client:
            pages = await asyncio.gather(
                *(
                    client.get("/repos/demo/calc/issues", params={"per_page": 100, "page": p})
                    for p in (1, 2, 3, 4)
                ),
                *(
                    client.post(f"/repos/demo/calc/issues/{n}/comments", json={"body": "hi"})
                    for n in range(1, 21)
                ),
            )
        assert [r.status_code for r in pages[:4]] == [200] * 4
        numbers = [i["number"] for r in pages[:4] for i in r.json()]
        assert sorted(numbers) == list(range(1, 305))
        assert all(r.status_code == 201 for r in pages[4:])
        ids = {r.json()["id"] for r in pages[4:]}
        assert len(ids) == 20
    assert (tmp_path / "d" / "fakehub.json").is_file()
