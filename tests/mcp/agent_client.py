"""Calls tools of the BioAiSaaS MCP server with the official Python SDK
(PyPI `mcp`) and prints what it got, for the agent-run tests
(host/tests/agents.rs).

Usage: agent_client.py --url URL --mode MODE < CALLS.json

The calls (on stdin) are a list of {"name": tool, "arguments": {...}, "cancel_after_s": s?}.
Every call's result (isError, structuredContent, text, progress
notifications) is printed as one JSON list on the last line. A call with
`cancel_after_s` is abandoned after that many seconds (the SDK cancels it).
Arguments may refer to an earlier call's run id as "$run_id:<index>".
"""

import argparse
import asyncio
import json
import sys

from mcp import Client


def content_text(result):
    return "".join(getattr(c, "text", "") or "" for c in result.content)


def resolve(value, results):
    if isinstance(value, str) and value.startswith("$run_id:"):
        earlier = results[int(value.split(":", 1)[1])]
        return earlier.get("run_id")
    if isinstance(value, dict):
        return {k: resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, results) for v in value]
    return value


async def scenario(url, mode, calls):
    results = []
    async with Client(url, mode=mode, read_timeout_seconds=600) as client:
        for call in calls:
            progress = []

            async def on_progress(value, total, message, progress=progress):
                progress.append({"progress": value, "total": total, "message": message})

            args = resolve(call.get("arguments", {}), results)
            entry = {"name": call["name"], "progress": progress}
            coro = client.call_tool(call["name"], args, progress_callback=on_progress)
            if "cancel_after_s" in call:
                try:
                    result = await asyncio.wait_for(coro, timeout=call["cancel_after_s"])
                except (asyncio.TimeoutError, TimeoutError):
                    entry["cancelled"] = True
                    run_ids = [p["message"].split()[1] for p in progress
                               if (p["message"] or "").startswith("run ")]
                    entry["run_id"] = run_ids[0] if run_ids else None
                    results.append(entry)
                    continue
            else:
                result = await coro
            entry["is_error"] = bool(result.is_error)
            entry["structured"] = result.structured_content
            entry["text"] = content_text(result)
            structured = result.structured_content or {}
            entry["run_id"] = structured.get("run_id")
            results.append(entry)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", default="legacy")
    args = parser.parse_args()
    results = asyncio.run(scenario(args.url, args.mode, json.load(sys.stdin)))
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
