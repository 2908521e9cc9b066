// End-to-end driver for tests/Faultline.Tests/Sdk/JsSdkEndToEndTests.cs: headless Debian Chromium loads a
// page served on 127.0.0.1 that includes dist/faultline.min.js, initialised with a real Faultline's DSN;
// the page throws an uncaught error, leaves a promise rejection unhandled and captures a handled
// exception. Waits until the SDK has sent all three (Faultline.flush in the page), then prints one JSON
// line: the page and script URLs, the release, the user and the id and message of every event sent.
// The .NET test asserts what Faultline stored. Exits non-zero on any failure.
//   node scripts/e2e-browser.mjs --dsn http://KEY@127.0.0.1:PORT/PROJECT --release R
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const USER = { id: 'e2e-user-7', email: 'e2e-user@example.com' };
const root = path.resolve(import.meta.dirname, '..');
const bundle = path.join(root, 'dist/faultline.min.js');

const { values: args } = parseArgs({ options: { dsn: { type: 'string' }, release: { type: 'string' } } });
if (!args.dsn || !args.release) fail('usage: node scripts/e2e-browser.mjs --dsn DSN --release RELEASE');
if (!existsSync(CHROMIUM)) fail(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); sdk/js/test.sh does when run as root.`);
if (!existsSync(bundle)) fail(`${bundle} is missing: run sdk/js/test.sh (or npm run build in sdk/js) first.`);

const watchdog = setTimeout(() => fail('timed out after 80 s'), 80_000);

// The app's script, a file of its own so that frames name it. The line numbers matter: the .NET test
// expects handledFailure at line 6, uncaughtFailure at line 9 and rejectedFailure at line 12.
const APP = `window.e2eSent = [];
Faultline.init({ dsn: __DSN__, release: __RELEASE__, environment: 'e2e', batchDelay: 100,
  user: __USER__,
  beforeSend: function (event) { window.e2eSent.push({ id: event.event_id, message: event.exception[0].value }); return event; } });
function handledFailure() {
  try { throw new Error('e2e handled'); } catch (e) { Faultline.captureException(e); }
}
function uncaughtFailure() {
  throw new TypeError('e2e uncaught');
}
async function rejectedFailure() {
  throw new RangeError('e2e rejection');
}
handledFailure();
setTimeout(uncaughtFailure, 0);
setTimeout(function () { rejectedFailure(); }, 0);
`;

const pages = {
  '/': () => '<!doctype html><title>e2e</title><script src="/faultline.min.js"></script><script src="/app.js"></script>',
  '/faultline.min.js': () => readFileSync(bundle),
  '/app.js': () =>
    APP.replace('__DSN__', JSON.stringify(args.dsn)).replace('__RELEASE__', JSON.stringify(args.release)).replace('__USER__', JSON.stringify(USER)),
};
const site = http.createServer((req, res) => {
  const page = pages[new URL(req.url, 'http://x').pathname];
  res.writeHead(page ? 200 : 404, { 'Content-Type': req.url.endsWith('.js') ? 'text/javascript' : 'text/html' });
  res.end(page ? page() : '');
});
await new Promise((r) => site.listen(0, '127.0.0.1', r));
const pageUrl = `http://127.0.0.1:${site.address().port}/`;

const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'faultline-e2e-chromium-'));
let context;
let status = 0;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const page = await context.newPage();
  const pageErrors = [];
  const consoleLines = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  await page.goto(pageUrl);
  try {
    await page.waitForFunction(() => window.e2eSent && window.e2eSent.length >= 3, undefined, { timeout: 20_000 });
  } catch (e) {
    const sent = await page.evaluate(() => window.e2eSent).catch(() => undefined);
    throw new Error(`the SDK did not capture three events within 20 s (captured ${JSON.stringify(sent)}; page errors ${JSON.stringify(pageErrors)}; console ${JSON.stringify(consoleLines)})`, { cause: e });
  }
  const flushed = await page.evaluate(() => window.Faultline.flush(20_000));
  if (flushed !== true) throw new Error('Faultline.flush(20000) in the page did not resolve to true: the events were not all sent');
  const events = await page.evaluate(() => window.e2eSent);
  console.log(JSON.stringify({ page: pageUrl, script: `${pageUrl}app.js`, release: args.release, user: USER, flushed, events, pageErrors }));
} catch (e) {
  console.error(`e2e-browser: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  status = 1;
} finally {
  await context?.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
  site.close();
  clearTimeout(watchdog);
}
process.exit(status);

function fail(message) {
  console.error(`e2e-browser: ${message}`);
  process.exit(1);
}
