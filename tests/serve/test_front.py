"""The front cache replays an answer only to a request it fits: same path, query, Accept, Host and Origin-ness."""

from __future__ import annotations

from idais_kg.serve.front import Replay, ReplayStore

GOAL = "/id/goal/post-deployment-monitoring"


def test_replays_match_the_request(server) -> None:
    for _ in range(2):  # the second round is answered by the front cache
        html = server.get(GOAL, "text/html")
        turtle = server.get(GOAL, "text/turtle")
        cors = server.get(GOAL, "text/turtle", Origin="http://example.org")
        head = server.head(GOAL, "text/turtle")
        assert html[0] == turtle[0] == cors[0] == 200
        assert html[1]["content-type"].startswith("text/html")
        assert turtle[1]["content-type"].startswith("text/turtle")
        assert "access-control-allow-origin" not in turtle[1]
        assert cors[1]["access-control-allow-origin"] == "*"
        assert turtle[2] == cors[2] and turtle[1]["etag"] == cors[1]["etag"]
        assert head[0] == 200 and head[2] == b""
    status, headers, _ = server.get(GOAL, "text/turtle", If_None_Match=turtle[1]["etag"])
    assert status == 304 and headers["etag"] == turtle[1]["etag"]


def test_errors_are_not_replayed(server) -> None:
    assert server.get("/id/goal/no-such-goal", "text/turtle")[0] == 404
    assert server.get("/id/goal/no-such-goal", "text/turtle")[0] == 404
    assert server.get("/api/queries/policies-of-goal", "application/json")[0] == 400


def test_store_is_bounded_in_entries_and_bytes() -> None:
    store = ReplayStore(entries=3, max_bytes=10_000)
    start = {"type": "http.response.start", "status": 200, "headers": []}
    for n in range(5):
        store.put((str(n).encode(),), Replay(start, b"x" * 100))
    assert [store.get((str(n).encode(),)) is not None for n in range(5)] == [False, False, True, True, True]
    store.put((b"big",), Replay(start, b"x" * 5_000))  # more than an eighth of the budget: not kept
    assert store.get((b"big",)) is None
    assert store.size <= 10_000
