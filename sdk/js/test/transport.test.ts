import { afterEach, describe, expect, it } from 'vitest';
import { nodeSender } from '../src/node-sender';
import { parseRetryAfter, Transport } from '../src/transport';
import type { FaultlineEvent, Sender, TransportOptions } from '../src/types';
import { freePort, sleep, startServer, waitFor, type StubServer } from './helpers';

const servers: StubServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(...args: Parameters<typeof startServer>): Promise<StubServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

function event(n: number): FaultlineEvent {
  return { event_id: n.toString(16).padStart(32, '0'), timestamp: Date.now() / 1000, level: 'error', platform: 'node', message: `m${n}` };
}

/** The real Node sender, with every call's time recorded. */
function recorded(port: number): { sender: Sender; calls: number[] } {
  const calls: number[] = [];
  const real = nodeSender(`http://127.0.0.1:${port}/api/v1/events`, 'key-1');
  return { calls, sender: (events) => (calls.push(Date.now()), real(events)) };
}

function messages(s: StubServer): string[] {
  return s.requests.flatMap((r) => (JSON.parse(r.body) as FaultlineEvent[]).map((e) => e.message ?? ''));
}

function transport(sender: Sender, o: TransportOptions = {}, onGiveUp?: (e: FaultlineEvent[]) => void): Transport {
  return new Transport(sender, { batchDelay: 20, backoffBase: 40, ...o }, onGiveUp);
}

describe('transport against a local HTTP server', () => {
  it('posts a JSON array to the native endpoint with the key header', async () => {
    const s = await server();
    const t = transport(recorded(s.port).sender);
    t.add(event(1));
    t.add(event(2));
    expect(await t.flush(2000)).toBe(true);
    expect(s.requests).toHaveLength(1);
    const [r] = s.requests;
    expect(r).toMatchObject({ method: 'POST', url: '/api/v1/events' });
    expect(r?.headers['x-faultline-key']).toBe('key-1');
    expect(r?.headers['content-type']).toBe('application/json');
    expect(messages(s)).toEqual(['m1', 'm2']);
  });

  it('batches up to maxBatch events per request', async () => {
    const s = await server();
    const t = transport(recorded(s.port).sender, { maxBatch: 2 });
    for (let i = 1; i <= 5; i++) t.add(event(i));
    expect(await t.flush(2000)).toBe(true);
    expect(s.requests.map((r) => (JSON.parse(r.body) as unknown[]).length)).toEqual([2, 2, 1]);
    expect(messages(s)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
  });

  it('sends on its own after batchDelay, without flush', async () => {
    const s = await server();
    const t = transport(recorded(s.port).sender, { batchDelay: 50 });
    t.add(event(1));
    await sleep(10);
    expect(s.requests).toHaveLength(0);
    await waitFor(() => s.requests.length === 1);
  });

  it('retries network errors with exponential backoff until the server is up', async () => {
    const port = await freePort();
    const { sender, calls } = recorded(port);
    const t = transport(sender, { maxRetries: 5 });
    t.add(event(1));
    await waitFor(() => calls.length >= 3); // refused at t0, t0+40, t0+120
    const s = await server(undefined, port);
    await waitFor(() => s.requests.length === 1);
    expect(messages(s)).toEqual(['m1']);
    const gaps = calls.slice(1).map((c, i) => c - (calls[i] ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(35);
    expect(gaps[1]).toBeGreaterThanOrEqual(75); // doubled
  });

  it('gives up after maxRetries and hands the batch over', async () => {
    const port = await freePort();
    const { sender, calls } = recorded(port);
    const given: FaultlineEvent[] = [];
    const t = transport(sender, { maxRetries: 3, backoffBase: 20 }, (e) => given.push(...e));
    t.add(event(1));
    await waitFor(() => given.length === 1);
    expect(calls).toHaveLength(4); // the first try and three retries
    const gaps = calls.slice(1).map((c, i) => c - (calls[i] ?? 0));
    expect(gaps[2]).toBeGreaterThanOrEqual(gaps[0] ?? 0);
    expect(gaps[2]).toBeGreaterThanOrEqual(75);
    expect(t.size).toBe(0);
  });

  it('honours 429 Retry-After and then sends the same batch', async () => {
    const s = await server((_, i) => (i === 0 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 202 }));
    const t = transport(recorded(s.port).sender);
    t.add(event(1));
    await waitFor(() => s.requests.length === 1);
    t.add(event(2));
    await sleep(300);
    expect(s.requests).toHaveLength(1); // paused, even for new events
    await waitFor(() => s.requests.length === 2, 3000);
    expect((s.requests[1]?.at ?? 0) - (s.requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(s.requests[1]?.body).toContain('m1');
    expect(s.requests[1]?.body).toContain('m2');
  });

  it('does not retry events the server refused (400, 413, 500)', async () => {
    for (const status of [400, 413, 500]) {
      const s = await server(() => ({ status, body: '{"title":"bad"}' }));
      const t = transport(recorded(s.port).sender);
      t.add(event(1));
      expect(await t.flush(2000)).toBe(true);
      await sleep(100);
      expect(s.requests).toHaveLength(1);
    }
  });

  it('keeps a bounded queue, dropping the oldest', async () => {
    const s = await server();
    const t = transport(recorded(s.port).sender, { maxQueue: 3, maxBatch: 10, batchDelay: 10_000 });
    for (let i = 1; i <= 6; i++) t.add(event(i));
    expect(t.size).toBe(3);
    expect(await t.flush(2000)).toBe(true);
    expect(messages(s)).toEqual(['m4', 'm5', 'm6']);
  });

  it('flush resolves false on timeout while the server is unreachable', async () => {
    const t = transport(recorded(await freePort()).sender, { backoffBase: 1000 });
    t.add(event(1));
    const started = Date.now();
    expect(await t.flush(300)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('nonsense')).toBeUndefined();
    const inTen = parseRetryAfter(new Date(Date.now() + 10_000).toUTCString()) ?? 0;
    expect(inTen).toBeGreaterThan(8);
    expect(inTen).toBeLessThanOrEqual(10);
  });
});
