"""A plugin's requests to the client (sampling, elicitation, roots), answered
by the official Python SDK (PyPI `mcp`) through its callbacks.

Usage: py_client_requests.py --prefix NS. --mode MODE (--url URL | --stdio BIOAI_BINARY [ARGS...])

In mode "legacy" (2025-11-25) the server sends the client requests on the
session; in mode "2026-07-28" the SDK receives input-required results and
retries with the answers. The server must have the conformance fixture
plugin loaded (its tools and prompts named with PREFIX, e.g.
`conformance.`). Prints one JSON object with what the client saw; the Rust
test (host/tests/mcp_clients.rs) judges it.
"""

import asyncio

from mcp import Client, types

from py_client import content_text, run


async def scenario(target, args):
    mode, prefix = args.mode, args.prefix
    asked = []
    withdrawn = asyncio.Event()

    async def sampling(context, params):
        asked.append("sampling")
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="Paris"),
            model="py-model",
            stop_reason="endTurn",
        )

    async def elicitation(context, params):
        if params.message == "wait forever":
            # The user never answers; the server must withdraw the request
            # when the tool call that asked is cancelled.
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                withdrawn.set()
                raise
        asked.append("elicitation")
        if "color" in params.message:
            content = {"color": "teal"}
        elif "context" in params.message:
            content = {"context": "oncology"}
        else:
            content = {"name": "Ada"}
        return types.ElicitResult(action="accept", content=content)

    async def roots(context):
        asked.append("roots")
        return types.ListRootsResult(
            roots=[types.Root(uri="file:///data/project", name="project")]
        )

    report = {"mode": mode}
    async with Client(
        target,
        mode=mode,
        read_timeout_seconds=60,
        sampling_callback=sampling,
        elicitation_callback=elicitation,
        list_roots_callback=roots,
    ) as client:
        for tool in [
            "test_input_required_result_multiple_inputs",
            "test_input_required_result_multi_round",
            "test_list_roots",
        ]:
            result = await client.call_tool(prefix + tool, {})
            report[tool] = {"is_error": bool(result.is_error), "text": content_text(result)}
        prompt = await client.get_prompt(prefix + "test_input_required_result_prompt", {})
        report["prompt"] = " ".join(
            getattr(m.content, "text", "") or "" for m in prompt.messages
        )
        read = await client.read_resource("test://input-required")
        report["resource"] = " ".join(getattr(c, "text", "") or "" for c in read.contents)
        if mode == "legacy":
            # Abandon a call while its elicitation is open: the server tells
            # the client with notifications/cancelled.
            try:
                await asyncio.wait_for(
                    client.call_tool(prefix + "test_elicitation", {"message": "wait forever"}),
                    timeout=1.0,
                )
            except (asyncio.TimeoutError, TimeoutError):
                pass
            try:
                await asyncio.wait_for(withdrawn.wait(), timeout=5.0)
                report["withdrawn"] = True
            except (asyncio.TimeoutError, TimeoutError):
                report["withdrawn"] = False
    report["asked"] = asked
    return report


if __name__ == "__main__":
    run(scenario, extra_arguments=["--prefix"])
