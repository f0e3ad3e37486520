"""Drives the BioAiSaaS MCP server with the official Python SDK (PyPI `mcp`).

Usage: py_client.py (--url URL | --stdio BIOAI_BINARY [ARGS...]) --mode MODE

MODE is "legacy" (2025-11-25 initialize handshake) or "2026-07-28". Runs the
same scenario as the TypeScript clients and prints one JSON object with what
it observed; the Rust test (host/tests/mcp_clients.rs) judges it.
"""

import argparse
import asyncio
import json
import sys
import time

from mcp import Client, StdioServerParameters


def content_text(result):
    return "".join(getattr(c, "text", "") or "" for c in result.content)


def meta_of(result):
    meta = getattr(result, "meta", None)
    if meta is None:
        return None
    if hasattr(meta, "model_dump"):
        meta = meta.model_dump(by_alias=True)
    return meta


async def scenario(target, args):
    mode = args.mode
    report = {"mode": mode}
    async with Client(target, mode=mode, read_timeout_seconds=60) as client:
        tools = await client.list_tools()
        report["tools"] = {
            t.name: {
                "has_input_schema": bool(t.input_schema),
                "has_output_schema": bool(t.output_schema),
                "description": t.description or "",
            }
            for t in tools.tools
        }

        ok = await client.call_tool("seq.gc_content", {"sequence": "GGCCAT"})
        report["structured"] = {
            "is_error": bool(ok.is_error),
            "structured": ok.structured_content,
            "text": content_text(ok),
            "meta": meta_of(ok),
        }

        bad = await client.call_tool("seq.gc_content", {"sequence": 5})
        report["bad_argument"] = {"is_error": bool(bad.is_error), "text": content_text(bad)}

        failed = await client.call_tool("seq.translate", {"sequence": "ATGXX!", "table": 1})
        report["tool_error"] = {"is_error": bool(failed.is_error), "text": content_text(failed)}

        progress = []

        async def on_progress(value, total, message):
            progress.append({"progress": value, "total": total, "message": message})

        stepped = await client.call_tool(
            "bench.steps", {"n": 4, "delay_ms": 30}, progress_callback=on_progress
        )
        report["progress"] = {
            "is_error": bool(stepped.is_error),
            "structured": stepped.structured_content,
            "notifications": progress,
        }

        started = time.monotonic()
        try:
            await asyncio.wait_for(client.call_tool("hostile.spin", {}), timeout=1.0)
            report["cancel"] = {"cancelled": False}
        except (asyncio.TimeoutError, TimeoutError):
            report["cancel"] = {"cancelled": True, "after_s": time.monotonic() - started}
        # The connection stays usable after a cancelled call.
        again = await client.call_tool("seq.gc_content", {"sequence": "AT"})
        report["after_cancel"] = {"is_error": bool(again.is_error), "structured": again.structured_content}
    return report


def run(scenario, extra_arguments=()):
    """The command line shared by the Python client scripts: parses --url or
    --stdio, --mode and `extra_arguments` (names of optional string options),
    runs `scenario(target, args)` and prints its report as one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--stdio", nargs=argparse.REMAINDER)
    parser.add_argument("--mode", required=True)
    for name in extra_arguments:
        parser.add_argument(name, default="")
    args = parser.parse_args()
    if args.url:
        target = args.url
    elif args.stdio:
        target = StdioServerParameters(command=args.stdio[0], args=args.stdio[1:])
    else:
        parser.error("give --url or --stdio")
    report = asyncio.run(scenario(target, args))
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    run(scenario)
