// Real-browser test: headless Debian Chromium loads a page that includes dist/faultline.min.js and fails
// in three ways; a capture server on another origin (another port) must receive all three events.
// Prints "browser: N passed, N failed" and exits non-zero on any failure. Never skips.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(import.meta.dirname, '..');
const results = [];
let failed = false;
const watchdog = setTimeout(() => {
  console.error('browser test: timed out after 120 s');
  process.exit(1);
}, 120_000);

ensureChromium();
if (!existsSync(path.join(root, 'dist/faultline.min.js'))) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });

// The capture server: Sentry's envelope endpoint, CORS for any origin, as Faultline answers it.
const received = [];
const capture = await serve((req, res, body) => {
  received.push({ method: req.method, url: req.url, headers: req.headers, body, at: Date.now() });
  res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/json' });
  res.end('{"id":null}');
});
const dsn = `http://pubkey@127.0.0.1:${capture.port}/1`;
const dead = await serve(() => {});
dead.server.close(); // a port that refuses connections: the browser is "offline" for it

// The app's origin: a page, the bundle, and the app's script (a file of its own, so frames name it).
const pages = {
  '/faultline.min.js': () => readFileSync(path.join(root, 'dist/faultline.min.js')),
  '/app.js': () => APP.replace('__DSN__', dsn),
  '/': () => `<!doctype html><title>app</title><button id="buy" class="btn primary">Buy</button><script>window.onerror = function (m) { window.appSaw = (window.appSaw || []).concat('onerror:' + m); };
addEventListener('unhandledrejection', function (e) { window.appSaw = (window.appSaw || []).concat('rejection:' + e.reason.message); });</script>
<script src="/faultline.min.js"></script><script src="/app.js"></script>`,
  '/beacon': () => `<!doctype html><script src="/faultline.min.js"></script><script>
Faultline.init({ dsn: '${dsn}', release: 'browser-test@1.0.0', batchDelay: 600000 });
Faultline.captureMessage('sent on page hide');</script>`,
  '/offline': () => `<!doctype html><script src="/faultline.min.js"></script><script>
Faultline.init({ dsn: 'http://pubkey@127.0.0.1:${dead.port}/1', maxRetries: 1, backoffBase: 50, batchDelay: 0 });
Faultline.captureMessage('kept while offline');</script>`,
  '/online': () => `<!doctype html><script src="/faultline.min.js"></script><script>
Faultline.init({ dsn: '${dsn}', batchDelay: 100 });</script>`,
};
const site = await serve((req, res) => {
  const page = pages[new URL(req.url, 'http://x').pathname];
  res.writeHead(page ? 200 : 404, { 'Content-Type': req.url.endsWith('.js') ? 'text/javascript' : 'text/html' });
  res.end(page ? page() : '');
});

const APP = `Faultline.init({ dsn: '__DSN__', release: 'browser-test@1.0.0', environment: 'test',
  user: { id: '42', email: 'buyer@example.com' }, batchDelay: 200 });
console.log('page ready');
document.getElementById('buy').click();
function handledFailure() {
  try { JSON.parse('{broken'); } catch (e) { Faultline.captureException(e); }
}
function uncaughtFailure() {
  throw new TypeError('uncaught failure');
}
async function rejectedFailure() {
  throw new RangeError('rejected failure');
}
handledFailure();
setTimeout(uncaughtFailure, 0);
setTimeout(function () { rejectedFailure(); }, 0);
`;

const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'faultline-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${site.url}/`);
  await waitFor(() => events().length >= 3, 10_000);
  const all = events();
  const byValue = (v) => all.find((e) => e.exception?.[0]?.value === v);
  const uncaught = byValue('uncaught failure');
  const rejected = byValue('rejected failure');
  const handled = all.find((e) => e.exception?.[0]?.type === 'SyntaxError');

  check('three events arrive, no more', () => eq(all.length, 3));
  const appSaw = await page.evaluate(() => window.appSaw ?? []);
  check("the app's own window.onerror and rejection handlers still run", () => {
    ok(appSaw.some((m) => m.startsWith('onerror:') && m.includes('uncaught failure')), JSON.stringify(appSaw));
    ok(appSaw.includes('rejection:rejected failure'), JSON.stringify(appSaw));
    ok(pageErrors.some((m) => m.includes('uncaught failure')), 'the browser still reports the error');
  });
  check('uncaught error: type, mechanism, crash frame', () => {
    ok(uncaught, 'event missing');
    const ex = uncaught.exception[0];
    eq(ex.type, 'TypeError');
    eq(JSON.stringify(ex.mechanism), '{"type":"onerror","handled":false}');
    const top = ex.stacktrace.frames.at(-1);
    eq(top.function, 'uncaughtFailure');
    eq(top.filename, `${site.url}/app.js`);
    eq(top.lineno, 9);
    ok(top.in_app, 'in_app');
  });
  check('unhandled rejection: type, mechanism, crash frame', () => {
    ok(rejected, 'event missing');
    const ex = rejected.exception[0];
    eq(ex.type, 'RangeError');
    eq(ex.mechanism.type, 'onunhandledrejection');
    eq(ex.mechanism.handled, false);
    eq(ex.stacktrace.frames.at(-1).function, 'rejectedFailure');
    eq(ex.stacktrace.frames.at(-1).lineno, 12);
  });
  check('handled exception: message, handled, caller frame', () => {
    ok(handled, 'event missing');
    const ex = handled.exception[0];
    ok(/JSON/.test(ex.value), `value ${ex.value}`);
    eq(ex.mechanism.handled, true);
    const mine = ex.stacktrace.frames.filter((f) => f.filename.endsWith('/app.js'));
    eq(mine.at(-1).function, 'handledFailure');
    eq(mine.at(-1).lineno, 6);
  });
  check('release, environment and user on every event', () => {
    for (const e of all) {
      eq(e.release, 'browser-test@1.0.0');
      eq(e.environment, 'test');
      eq(JSON.stringify(e.user), '{"id":"42","email":"buyer@example.com"}');
      eq(e.platform, 'javascript');
      ok(/^[0-9a-f]{32}$/.test(e.event_id), 'event_id');
    }
  });
  check('page URL, user agent and breadcrumbs', () => {
    eq(handled.request.url, `${site.url}/`);
    ok(/Chrome/.test(handled.request.headers['User-Agent']), 'user agent');
    const crumbs = uncaught.breadcrumbs ?? [];
    ok(crumbs.some((b) => b.category === 'console' && b.message === 'page ready'), 'console breadcrumb');
    ok(crumbs.some((b) => b.category === 'ui.click' && b.message === 'button#buy.btn.primary'), 'click breadcrumb');
  });
  check('envelopes: text/plain with the key in the query, no CORS preflight', () => {
    ok(received.every((r) => r.method === 'POST'), `methods ${received.map((r) => r.method).join(',')}`);
    for (const r of received) {
      eq(r.url, '/api/1/envelope/?sentry_key=pubkey&sentry_version=7');
      ok(r.headers['content-type'].startsWith('text/plain'), r.headers['content-type']);
    }
  });

  // sendBeacon: an event still waiting for its batch goes out when the page is left.
  const before = received.length;
  await page.goto(`${site.url}/beacon`);
  await page.goto('about:blank');
  await waitFor(() => received.length > before, 5000).catch(() => {});
  check('a queued event is sent by sendBeacon when the page is hidden', () => {
    const got = received.slice(before).flatMap((r) => parse(r.body));
    eq(got.map((e) => e.message).join(), 'sent on page hide');
  });

  // localStorage: a batch that could not be delivered is kept, and sent by the next page.
  const mark = received.length;
  await page.goto(`${site.url}/offline`);
  await page.waitForFunction(() => localStorage.getItem('faultline.queue'), undefined, { timeout: 5000 });
  await page.goto(`${site.url}/online`);
  await waitFor(() => received.length > mark, 5000).catch(() => {});
  check('an event kept in localStorage while offline is sent by the next page', () => {
    const got = received.slice(mark).flatMap((r) => parse(r.body));
    eq(got.map((e) => e.message).join(), 'kept while offline');
  });
} catch (e) {
  check('browser run', () => {
    throw e;
  });
} finally {
  await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
  capture.server.close();
  site.server.close();
  clearTimeout(watchdog);
}

const passed = results.filter((r) => r).length;
console.log(`browser: ${passed} passed, ${results.length - passed} failed`);
process.exit(failed ? 1 : 0);

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    console.error(`browser test: ${CHROMIUM} is missing. Install Debian's chromium (apt-get install -y chromium) or run as root, which installs it.`);
    process.exit(1);
  }
  console.log('browser test: installing chromium with apt-get (about a minute)');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (!existsSync(CHROMIUM)) {
    console.error(`browser test: apt-get ran but ${CHROMIUM} is still missing`);
    process.exit(1);
  }
}

/** Events out of the envelopes received: item header lines are followed by their payload line. */
function events() {
  return received.flatMap((r) => parse(r.body));
}

function parse(body) {
  const lines = body.split('\n').slice(1);
  const out = [];
  for (let i = 0; i + 1 < lines.length; i += 2) if (JSON.parse(lines[i]).type === 'event') out.push(JSON.parse(lines[i + 1]));
  return out;
}

function check(name, fn) {
  try {
    fn();
    results.push(true);
    console.log(`  ✓ ${name}`);
  } catch (e) {
    results.push(false);
    failed = true;
    console.log(`  ✗ ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function ok(value, what = 'expected a truthy value') {
  if (!value) throw new Error(what);
}

function eq(actual, expected) {
  if (actual !== expected) throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

async function waitFor(test, timeout) {
  const end = Date.now() + timeout;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms (received ${received.length} requests)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function serve(handler) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return { server, port, url: `http://127.0.0.1:${port}` };
}
