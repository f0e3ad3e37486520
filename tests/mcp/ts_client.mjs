// Drives the BioAiSaaS MCP server with the official TypeScript SDKs:
//   --sdk v2  @modelcontextprotocol/client 2.x, version negotiation "auto"
//   --sdk v1  @modelcontextprotocol/sdk 1.x (2025-11-25 era; what most
//             desktop clients embed today)
// Transport: --url URL (Streamable HTTP) or --stdio BIOAI_BINARY ARGS...
// Runs the same scenario as py_client.py and prints one JSON object with
// what it observed; host/tests/mcp_clients.rs judges it.

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const sdk = opt('--sdk') ?? 'v2';
const url = opt('--url');
const stdioAt = argv.indexOf('--stdio');
const stdio = stdioAt >= 0 ? argv.slice(stdioAt + 1) : null;

async function connect() {
  if (sdk === 'v1') {
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const client = new Client({ name: 'bioai-test-v1', version: '1.0.0' });
    let transport;
    if (url) {
      const { StreamableHTTPClientTransport } = await import(
        '@modelcontextprotocol/sdk/client/streamableHttp.js'
      );
      transport = new StreamableHTTPClientTransport(new URL(url));
    } else {
      const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
      transport = new StdioClientTransport({ command: stdio[0], args: stdio.slice(1), stderr: 'ignore' });
    }
    await client.connect(transport);
    return client;
  }
  const mod = await import('@modelcontextprotocol/client');
  const client = new mod.Client(
    { name: 'bioai-test-v2', version: '2.0.0' },
    { versionNegotiation: { mode: 'auto' } },
  );
  let transport;
  if (url) {
    transport = new mod.StreamableHTTPClientTransport(new URL(url));
  } else {
    const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
    transport = new StdioClientTransport({ command: stdio[0], args: stdio.slice(1), stderr: 'ignore' });
  }
  await client.connect(transport);
  return client;
}

const text = (r) => (r.content ?? []).map((c) => c.text ?? '').join('');

async function main() {
  const client = await connect();
  const report = { sdk };
  const call = (name, args, options) =>
    sdk === 'v1'
      ? client.callTool({ name, arguments: args }, undefined, options)
      : client.callTool({ name, arguments: args }, options);

  const tools = await client.listTools();
  report.tools = Object.fromEntries(
    tools.tools.map((t) => [
      t.name,
      {
        has_input_schema: !!t.inputSchema,
        has_output_schema: !!t.outputSchema,
        description: t.description ?? '',
      },
    ]),
  );

  const ok = await call('seq.gc_content', { sequence: 'GGCCAT' });
  report.structured = {
    is_error: !!ok.isError,
    structured: ok.structuredContent ?? null,
    text: text(ok),
    meta: ok._meta ?? null,
  };

  const bad = await call('seq.gc_content', { sequence: 5 });
  report.bad_argument = { is_error: !!bad.isError, text: text(bad) };

  const failed = await call('seq.translate', { sequence: 'ATGXX!', table: 1 });
  report.tool_error = { is_error: !!failed.isError, text: text(failed) };

  const notifications = [];
  const stepped = await call(
    'bench.steps',
    { n: 4, delay_ms: 30 },
    { onprogress: (p) => notifications.push(p) },
  );
  report.progress = {
    is_error: !!stepped.isError,
    structured: stepped.structuredContent ?? null,
    notifications,
  };

  const started = Date.now();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 1000);
  try {
    await call('hostile.spin', {}, { signal: abort.signal, timeout: 120000 });
    report.cancel = { cancelled: false };
  } catch (e) {
    report.cancel = { cancelled: true, after_s: (Date.now() - started) / 1000, error: String(e) };
  } finally {
    clearTimeout(timer);
  }
  const again = await call('seq.gc_content', { sequence: 'AT' });
  report.after_cancel = { is_error: !!again.isError, structured: again.structuredContent ?? null };

  await client.close();
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e) => {
  process.stderr.write(`client failed: ${e?.stack ?? e}\n`);
  process.exit(1);
});
