"""`bench_client.py --client celeste-python|litellm --scenario N --url http://127.0.0.1:PORT`

The Python half of the side-by-side benchmark: the same contract as `bench-client` (Rust). It runs one
scenario with one client against the emulator, checks that every chunk arrived, prints one JSON line
(the `Report` of `bench/src/lib.rs`) and exits: 0 also for "not applicable" (the line then has `na`),
1 on any failure (the reason on stderr).

The scenarios' figures (model names, reply text, chunk counts) must match `bench/src/lib.rs` and
`bench/scenarios.json`; the runner checks the counts it receives against its own table, too.

Each client is built once per process and reused for every call, as the Rust clients are: the figure
is the cost of a call, not of building a client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

PROMPT = "Say hello to the benchmark."
API_KEY = "k"
UNARY_TEXT = "Hello from the benchmark emulator."
CHUNK_SIZE = 8

# id -> (model, api, streaming, calls, chunks per call, bytes per call). S3 (one 5 MiB event) and S4
# (2,000 concurrent streams) are Rust-runtime questions (buffering, tasks per stream) and are not run.
SCENARIOS = {
    0: ("bench-unary", "chat", False, 1, 1, len(UNARY_TEXT)),
    1: ("bench-unary", "chat", False, 10_000, 1, len(UNARY_TEXT)),
    2: ("bench-stream", "chat", True, 200, 2_000, 2_000 * CHUNK_SIZE),
    5: ("claude-sonnet-4-5", "messages", True, 200, 2_000, 2_000 * CHUNK_SIZE),
}


class CelestePython:
    """celeste-ai 1.0.0, the Python reference: `create_client` once, then one call per request."""

    def __init__(self, url: str, model: str, api: str) -> None:
        from celeste import create_client

        # Chat Completions is reached as a protocol at the base URL; Anthropic as its provider.
        route = {"protocol": "chatcompletions"} if api == "chat" else {"provider": "anthropic"}
        self.client = create_client(
            modality="text", operation="generate", model=model, base_url=url, api_key=API_KEY, **route
        )

    async def unary(self) -> str:
        out = await self.client.generate(PROMPT)
        return out.content

    async def stream(self):
        async for chunk in self.client.stream.generate(PROMPT):
            if chunk.content:
                yield chunk.content


class LiteLlm:
    """LiteLLM's `acompletion`, the most used Python gateway."""

    def __init__(self, url: str, model: str, api: str) -> None:
        # The cost map is otherwise fetched from GitHub at import, which this machine cannot reach.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        self.litellm = litellm
        if api == "chat":
            self.kwargs = {"model": f"openai/{model}", "api_base": f"{url}/v1", "api_key": API_KEY}
        else:
            self.kwargs = {"model": f"anthropic/{model}", "api_base": url, "api_key": API_KEY, "max_tokens": 1024}

    async def unary(self) -> str:
        out = await self.litellm.acompletion(messages=[{"role": "user", "content": PROMPT}], **self.kwargs)
        return out.choices[0].message.content or ""

    async def stream(self):
        response = await self.litellm.acompletion(
            messages=[{"role": "user", "content": PROMPT}], stream=True, **self.kwargs
        )
        async for chunk in response:
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content


CLIENTS = {"celeste-python": CelestePython, "litellm": LiteLlm}


async def run(client, streaming: bool, calls: int) -> tuple[int, int]:
    chunks = 0
    size = 0
    for _ in range(calls):
        if streaming:
            async for text in client.stream():
                chunks += 1
                size += len(text)
        else:
            text = await client.unary()
            if text:
                chunks += 1
                size += len(text)
    return chunks, size


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--client", required=True, choices=sorted(CLIENTS))
    parser.add_argument("--scenario", required=True, type=int)
    parser.add_argument("--url", required=True)
    args = parser.parse_args()
    report = {"client": args.client, "scenario": args.scenario, "wall_ms": 0.0, "calls": 0, "chunks": 0, "bytes": 0}
    if args.scenario not in SCENARIOS:
        report["na"] = "scenario not run for the Python clients"
        print(json.dumps(report))
        return 0
    model, api, streaming, calls, per_call, bytes_per_call = SCENARIOS[args.scenario]
    start = time.perf_counter()
    try:
        client = CLIENTS[args.client](args.url.rstrip("/"), model, api)
        chunks, size = asyncio.run(run(client, streaming, calls))
    except Exception as e:  # noqa: BLE001 - any failure is the benchmark's failure, reported as such
        print(f"{args.client} scenario {args.scenario}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    wall_ms = (time.perf_counter() - start) * 1e3
    if chunks != calls * per_call or size != calls * bytes_per_call:
        print(
            f"{args.client} on scenario {args.scenario}: received {chunks} chunks / {size} bytes, "
            f"expected {calls * per_call} / {calls * bytes_per_call}",
            file=sys.stderr,
        )
        return 1
    report.update(wall_ms=wall_ms, calls=calls, chunks=chunks, bytes=size)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
