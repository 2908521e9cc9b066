import * as os from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as sdk from '../src/node';
import { parseDsn, envelopeUrl, nativeUrl } from '../src/dsn';
import type { FaultlineEvent, Options } from '../src/types';

let sent: FaultlineEvent[] = [];

/** Starts the SDK with a sender that records batches; no process handlers in the test runner. */
function start(options: Options = {}): void {
  sent = [];
  sdk.init({ autoCapture: false, batchDelay: 0, sender: (events) => (sent.push(...events), Promise.resolve({ status: 202 })), ...options });
}

async function events(): Promise<FaultlineEvent[]> {
  await sdk.flush(1000);
  return sent;
}

function boom(message: string): Error {
  return new Error(message); // one line: errors made here have identical stacks
}

afterEach(async () => {
  await sdk.close();
  sdk.setUser(null);
  vi.restoreAllMocks();
});

describe('dsn', () => {
  it('parses the Sentry form and builds both endpoints', () => {
    const d = parseDsn('https://abc123@errors.example.com:8443/faultline/42');
    expect(d).toEqual({ key: 'abc123', projectId: '42', base: 'https://errors.example.com:8443/faultline' });
    if (!d) return;
    expect(nativeUrl(d)).toBe('https://errors.example.com:8443/faultline/api/v1/events');
    expect(envelopeUrl(d)).toBe('https://errors.example.com:8443/faultline/api/42/envelope/?sentry_key=abc123&sentry_version=7');
    expect(parseDsn('not a dsn')).toBeUndefined();
    expect(parseDsn('http://host/1')).toBeUndefined();
  });

  it('stays inactive without a dsn', () => {
    expect(sdk.init({})).toBeUndefined();
    expect(sdk.captureException(new Error('x'))).toBeUndefined();
  });
});

describe('capture and enrichment', () => {
  it('builds an exception event with release, environment, user, tags and node context', async () => {
    start({ release: 'app@1.2.3', environment: 'prod', user: { id: '7' }, tags: { region: 'eu' } });
    sdk.setTag('feature', 'checkout');
    sdk.setContext('cart', { items: 3 });
    sdk.setExtra('note', 'n');
    sdk.addBreadcrumb({ category: 'auth', message: 'logged in' });
    const id = sdk.captureException(new TypeError('bad thing'));
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const [e] = await events();
    expect(e).toMatchObject({
      event_id: id, level: 'error', platform: 'node', release: 'app@1.2.3', environment: 'prod',
      user: { id: '7' }, tags: { region: 'eu', feature: 'checkout' }, extra: { note: 'n' },
      server_name: os.hostname(), sdk: { name: 'faultline.node', version: sdk.getClient() ? '0.1.0' : '' },
    });
    expect(e?.contexts).toMatchObject({ cart: { items: 3 }, runtime: { name: 'node', version: process.version } });
    expect(e?.breadcrumbs?.[0]).toMatchObject({ category: 'auth', message: 'logged in' });
    expect(e?.exception?.[0]).toMatchObject({ type: 'TypeError', value: 'bad thing', mechanism: { type: 'generic', handled: true } });
    expect(e?.exception?.[0]?.stacktrace?.frames.at(-1)?.filename).toMatch(/client\.test\.ts$/);
    expect(Math.abs((e?.timestamp ?? 0) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('lists a cause chain oldest first', async () => {
    start();
    sdk.captureException(new Error('outer', { cause: new RangeError('inner') }));
    const [e] = await events();
    expect(e?.exception?.map((x) => x.value)).toEqual(['inner', 'outer']);
    expect(e?.exception?.[1]?.mechanism).toBeDefined();
  });

  it('describes thrown values that are not errors', async () => {
    start();
    sdk.captureException('a string');
    sdk.captureException({ code: 5, reason: 'x' });
    const [a, b] = await events();
    expect(a?.exception?.[0]).toMatchObject({ type: 'Error', value: 'a string' });
    expect(b?.exception?.[0]?.value).toBe('Non-Error captured with keys: code, reason');
  });

  it('captures messages with a level', async () => {
    start();
    sdk.captureMessage('disk almost full', 'warning');
    const [e] = await events();
    expect(e).toMatchObject({ message: 'disk almost full', level: 'warning' });
  });

  it('withScope changes only the events captured inside it', async () => {
    start();
    sdk.setTag('a', '1');
    sdk.withScope((scope) => {
      scope.setTag('b', '2');
      scope.setUser({ email: 'x@example.com' });
      scope.setLevel('fatal');
      scope.setFingerprint(['custom']);
      sdk.captureMessage('inside');
    });
    sdk.captureMessage('outside');
    const [inside, outside] = await events();
    expect(inside).toMatchObject({ tags: { a: '1', b: '2' }, user: { email: 'x@example.com' }, level: 'fatal', fingerprint: ['custom'] });
    expect(outside?.tags).toEqual({ a: '1' });
    expect(outside?.user).toBeUndefined();
    expect(outside?.level).toBe('info');
  });

  it('keeps at most maxBreadcrumbs, newest last', async () => {
    start({ maxBreadcrumbs: 3 });
    for (let i = 0; i < 5; i++) sdk.addBreadcrumb({ message: `b${i}` });
    sdk.captureMessage('m');
    const [e] = await events();
    expect(e?.breadcrumbs?.map((b) => b.message)).toEqual(['b2', 'b3', 'b4']);
  });
});

describe('filters', () => {
  it('samples with sampleRate', async () => {
    start({ sampleRate: 0.5 });
    const random = vi.spyOn(Math, 'random');
    random.mockReturnValueOnce(0.7);
    expect(sdk.captureMessage('dropped')).toBeUndefined();
    random.mockReturnValueOnce(0.2);
    expect(sdk.captureMessage('kept')).toBeDefined();
    expect((await events()).map((e) => e.message)).toEqual(['kept']);
  });

  it('sends nothing with sampleRate 0', async () => {
    start({ sampleRate: 0 });
    for (let i = 0; i < 20; i++) sdk.captureMessage(`m${i}`);
    expect(await events()).toEqual([]);
  });

  it('lets beforeSend change or drop events, and drops them when it throws', async () => {
    start({
      beforeSend: (event, hint) => {
        if (event.message === 'drop') return null;
        if (event.message === 'throw') throw new Error('broken hook');
        event.tags = { ...event.tags, seen: 'yes', mechanism: hint.mechanism ?? 'none' };
        return event;
      },
    });
    expect(sdk.captureMessage('drop')).toBeUndefined();
    expect(sdk.captureMessage('throw')).toBeUndefined();
    sdk.captureMessage('keep');
    const got = await events();
    expect(got).toHaveLength(1);
    expect(got[0]?.tags).toMatchObject({ seen: 'yes' });
  });

  it('drops an error equal to the one just captured, but not a different one', async () => {
    start();
    const errors = ['same', 'same', 'other', 'same'].map((m) => boom(m));
    for (const e of errors) sdk.captureException(e);
    expect((await events()).map((e) => e.exception?.[0]?.value)).toEqual(['same', 'other', 'same']);
  });

  it('keeps duplicates when dedupe is off, but never reports one error object twice', async () => {
    start({ dedupe: false });
    const [a, b] = ['same', 'same'].map((m) => boom(m));
    sdk.captureException(a);
    sdk.captureException(b);
    sdk.captureException(a);
    expect(await events()).toHaveLength(2);
  });
});

describe('wrap and tryCatch', () => {
  it('reports and rethrows synchronous errors', async () => {
    start();
    const fn = sdk.wrap((x: number) => {
      if (x > 1) throw new Error(`too big: ${x}`);
      return x;
    });
    expect(fn(1)).toBe(1);
    expect(() => fn(5)).toThrow('too big: 5');
    expect(() => sdk.tryCatch(() => JSON.parse('{') as unknown)).toThrow(SyntaxError);
    const got = await events();
    expect(got.map((e) => e.exception?.[0]?.type)).toEqual(['Error', 'SyntaxError']);
    expect(got[0]?.exception?.[0]?.mechanism).toEqual({ type: 'wrap', handled: false });
  });

  it('reports and rethrows rejections of returned promises', async () => {
    start();
    const fn = sdk.wrap(async () => {
      await Promise.resolve();
      throw new Error('async failure');
    });
    await expect(fn()).rejects.toThrow('async failure');
    expect((await events())[0]?.exception?.[0]?.value).toBe('async failure');
  });
});

describe('safety', () => {
  it('never throws into the app when the sender fails or events cannot be serialised', async () => {
    sdk.init({ autoCapture: false, batchDelay: 0, maxRetries: 0, sender: () => { throw new Error('sender exploded'); } });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    sdk.setExtra('cyclic', cyclic);
    expect(() => sdk.captureException(new Error('x'))).not.toThrow();
    expect(await sdk.flush(500)).toBe(true);
  });
});
