// The SDK in a real Node child process: the crash must be delivered before the process exits.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultlineEvent } from '../src/types';
import { startServer, type StubServer } from './helpers';

let dir = '';
let s: StubServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'faultline-sdk-'));
  // Bundled from the sources so this test does not depend on the build step.
  await build({ entryPoints: ['src/node.ts'], bundle: true, platform: 'node', format: 'cjs', outfile: path.join(dir, 'sdk.cjs'), logLevel: 'warning' });
  s = await startServer();
});

afterAll(async () => {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stderr: string;
  exitedAt: number;
  events: FaultlineEvent[];
}

async function run(name: string, body: string): Promise<Run> {
  const before = s.requests.length;
  const file = path.join(dir, `${name}.cjs`);
  writeFileSync(file, `const sdk = require('./sdk.cjs');
sdk.init({ dsn: 'http://secret-key@127.0.0.1:${s.port}/1', release: 'crash-test@1.0.0', batchDelay: 60000, user: { id: 'u-1' } });
${body}`);
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const exitedAt = Date.now();
  const received = s.requests.slice(before);
  for (const r of received) {
    expect(r.at).toBeLessThanOrEqual(exitedAt); // stored before the process exited
    expect(r.headers['x-faultline-key']).toBe('secret-key');
  }
  return { code, stderr, exitedAt, events: received.flatMap((r) => JSON.parse(r.body) as FaultlineEvent[]) };
}

describe('Node child process', () => {
  it('reports an uncaught exception, then exits with code 1 as Node does', async () => {
    const r = await run('uncaught', `setTimeout(function crashHere() { throw new Error('child crashed'); }, 10);`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('child crashed');
    expect(r.events).toHaveLength(1);
    const [e] = r.events;
    expect(e).toMatchObject({ level: 'fatal', platform: 'node', release: 'crash-test@1.0.0', user: { id: 'u-1' }, server_name: os.hostname() });
    expect(e?.contexts?.runtime).toEqual({ name: 'node', version: process.version });
    expect(e?.exception?.[0]).toMatchObject({ type: 'Error', value: 'child crashed', mechanism: { type: 'onuncaughtexception', handled: false } });
    expect(e?.exception?.[0]?.stacktrace?.frames.at(-1)).toMatchObject({ function: 'Timeout.crashHere', filename: path.join(dir, 'uncaught.cjs'), lineno: 3, in_app: true });
  });

  it('reports an unhandled rejection and exits with code 1', async () => {
    const r = await run('rejection', `Promise.reject(new RangeError('nobody caught me'));`);
    expect(r.code).toBe(1);
    expect(r.events.map((e) => e.exception?.[0]?.value)).toEqual(['nobody caught me']);
    expect(r.events[0]?.exception?.[0]?.mechanism).toEqual({ type: 'onunhandledrejection', handled: false });
  });

  it('leaves the process running when the app handles uncaught exceptions itself', async () => {
    const r = await run('handled', `process.on('uncaughtException', () => { console.error('app handler ran'); setTimeout(() => process.exit(3), 300); });
setTimeout(() => { throw new Error('app takes care'); }, 10);`);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('app handler ran');
    expect(r.events.map((e) => e.exception?.[0]?.value)).toEqual(['app takes care']);
  });

  it('sends queued events when the process ends normally', async () => {
    const r = await run('normal', `sdk.captureMessage('goodbye', 'info');`);
    expect(r.code).toBe(0);
    expect(r.events.map((e) => e.message)).toEqual(['goodbye']);
  });
});
