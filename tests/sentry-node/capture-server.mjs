// Records Sentry SDK requests byte for byte for the fixture corpus in
// tests/Faultline.Tests/Fixtures/sentry-envelopes/ (see the README there).
// Usage: node capture-server.mjs OUTDIR PREFIX [PORT]
// Each request becomes PREFIX-N.body (the body exactly as received, still compressed) and PREFIX-N.json
// (method, path, query string, headers in the order and spelling they arrived). Answers like Sentry: 200 {"id"}.
import { createServer } from 'node:http';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const [outDir, prefix, port = '0'] = process.argv.slice(2);
if (!outDir || !prefix) {
  console.error('usage: node capture-server.mjs OUTDIR PREFIX [PORT]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
let count = 0;

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', chunk => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const name = `${prefix}-${++count}`;
    const url = new URL(req.url, 'http://capture');
    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    }
    writeFileSync(join(outDir, `${name}.body`), body);
    writeFileSync(join(outDir, `${name}.json`), JSON.stringify({
      method: req.method,
      path: url.pathname,
      query: url.search,
      headers,
    }, null, 2) + '\n');

    let text = body;
    if (/gzip/i.test(req.headers['content-encoding'] ?? '')) text = gunzipSync(body);
    let id = '';
    try {
      id = JSON.parse(text.toString('utf8').split('\n', 1)[0]).event_id ?? '';
    } catch {
      // Not an envelope: answer without an id.
    }
    console.log(`${name}: ${req.method} ${req.url} ${body.length} bytes`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id }));
  });
});

server.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
