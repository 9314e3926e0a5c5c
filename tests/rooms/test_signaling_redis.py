"""The built-in room scaled out (STYLE: Redis layer when scaled): two web processes share a
real Redis server (PARLOUR_REDIS_URL); one side's socket is on each, and the room works as on
one process: the server keeps no presence of its own, everything goes through the group."""

import asyncio

import pytest

from tests.browser.liveserver import ServerProcess, agreed_now
from tests.factories import world
from tests.redisserver import redis_server
from tests.rooms.test_signaling import ANSWER, CANDIDATE, OFFER, enter, opened, room_name

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_servers():
    with redis_server() as redis:
        servers = []
        try:
            for _ in range(2):
                servers.append(ServerProcess(PARLOUR_REDIS_URL=redis.url).start())
            yield servers
        finally:
            for server in servers:
                server.stop()


def test_the_two_sides_meet_across_two_web_processes_V2(two_servers):
    one, other = two_servers
    w = world()
    meeting = agreed_now(w)
    expert_cookie, second_window, client_cookie = (
        enter(meeting, w.expert),
        enter(meeting, w.expert),
        enter(meeting, w.client),
    )
    name = room_name(meeting)

    async def scenario() -> None:
        async with opened(one, name, expert_cookie) as expert, opened(other, name, client_cookie) as client:
            assert await expert.receive() == {"type": "welcome", "side": "expert"}
            assert await client.receive() == {"type": "welcome", "side": "client"}
            assert await expert.receive() == {"type": "arrived", "side": "client"}
            await expert.send({"type": "here"})
            assert await client.receive() == {"type": "present", "side": "expert"}
            await expert.send({"type": "signal", "data": OFFER})
            assert await client.receive() == {"type": "signal", "from": "expert", "data": OFFER}
            await client.send({"type": "signal", "data": ANSWER})
            await client.send({"type": "signal", "data": CANDIDATE})
            assert await expert.receive() == {"type": "signal", "from": "client", "data": ANSWER}
            assert await expert.receive() == {"type": "signal", "from": "client", "data": CANDIDATE}

            # The expert opens the room again, on the client's process: the first window,
            # on the other process, stops.
            async with opened(other, name, second_window) as again:
                assert await again.receive() == {"type": "welcome", "side": "expert"}
                assert await expert.receive() == {"type": "replaced"}
                assert await expert.close_code() == 4408
                assert await client.receive() == {"type": "arrived", "side": "expert"}
                await client.silent()
                await again.send({"type": "bye"})
                assert await again.close_code() == 1000
            assert await client.receive() == {"type": "left", "side": "expert", "reason": "bye"}

    asyncio.run(scenario())
