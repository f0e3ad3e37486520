// Calls `bio_agent.run_task` as an MCP task with the official Tasks client,
// @modelcontextprotocol/ext-tasks on @modelcontextprotocol/client 2.x, in
// the 2026-07-28 era (the Tasks extension `io.modelcontextprotocol/tasks`):
// one run followed to its result, one cancelled while it works. ext-tasks
// needs the host to carry the V2 task requests itself (`rawDispatch`): here
// a plain POST to the Streamable HTTP endpoint with the era's headers.
// Prints one JSON object with what it observed; host/tests/agents.rs
// judges it.
//
// Usage: node tasks_client.mjs --url URL < {"inputs": {...}, "longInputs": {...}}

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import {
  createTaskSessionFromClient,
  resultFromTaskOutcome,
} from '@modelcontextprotocol/ext-tasks/client';

const VERSION = '2026-07-28';
const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const url = opt('--url');

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

let nextId = 1;

// One JSON-RPC request over Streamable HTTP, answered as JSON or as SSE.
async function rawDispatch(request, options) {
  const body = { jsonrpc: '2.0', id: `raw-${nextId++}`, ...request };
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': VERSION,
    'mcp-method': body.method,
  };
  const name = body.params?.name ?? body.params?.uri ?? body.params?.taskId;
  if (name !== undefined) headers['mcp-name'] = String(name);
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    signal: options?.signal,
  });
  const type = res.headers.get('content-type') ?? '';
  let message;
  if (type.includes('text/event-stream')) {
    const text = await res.text();
    for (const block of text.split(/\n\n/)) {
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (!data) continue;
      const m = JSON.parse(data);
      if (m.id === body.id) message = m;
    }
  } else {
    message = await res.json();
  }
  if (message === undefined) throw new Error(`no response to ${body.method} (HTTP ${res.status})`);
  return message.error !== undefined
    ? { kind: 'error', error: message.error }
    : { kind: 'result', result: message.result };
}

async function main() {
  const given = await readStdin();
  const clientInfo = { name: 'bioai-test-tasks', version: '1.0.0' };
  const clientCapabilities = { extensions: { 'io.modelcontextprotocol/tasks': {} } };
  const client = new Client(clientInfo, {
    versionNegotiation: { mode: { pin: VERSION } },
    capabilities: clientCapabilities,
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  const report = {
    extensions: client.getServerCapabilities()?.extensions ?? null,
  };
  const session = createTaskSessionFromClient(client, {
    endpointId: 'bioai-test',
    rawDispatch,
    v2RequestFraming: { protocolVersion: VERSION, clientInfo, clientCapabilities },
  });
  try {
    // A template run, required to be a task, followed to its result.
    const run = await session.callTool(
      'bio_agent.run_task',
      { task: 'CRISPR knockout guides', template: 'crispr_knockout', inputs: given.inputs },
      { task: { preference: 'require' } },
    );
    report.kind = run.kind;
    report.taskId = run.handle?.taskId ?? null;
    const states = [];
    const { outcome, lastTask } = await run.settle({
      onEvent: (e) => {
        if (e.type === 'task') states.push(e.task.status);
      },
    });
    report.states = states;
    report.outcome = outcome.status;
    report.lastStatus = lastTask?.status ?? null;
    const result = resultFromTaskOutcome(outcome);
    report.isError = Boolean(result.isError);
    report.structured = result.structuredContent ?? null;

    // A long run, cancelled through the task while it works.
    const long = await session.callTool(
      'bio_agent.run_task',
      { task: 'QC this FASTA', inputs: given.longInputs },
      { task: { preference: 'require' } },
    );
    report.longKind = long.kind;
    await new Promise((r) => setTimeout(r, 1500));
    await long.cancel();
    const settled = await long.settle();
    report.longOutcome = settled.outcome.status;
  } finally {
    await session.close();
    await client.close();
  }
  console.log(JSON.stringify(report));
}

main().catch((e) => {
  console.error(e?.stack ?? String(e));
  process.exit(1);
});
