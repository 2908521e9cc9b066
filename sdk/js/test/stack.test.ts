import { describe, expect, it } from 'vitest';
import { parseStack } from '../src/stack';

// Stack strings as the engines print them (captured from real runs, paths shortened).
const CHROMIUM = `TypeError: Cannot read properties of undefined (reading 'x')
    at getX (http://localhost:5173/src/app.js:10:15)
    at HTMLButtonElement.<anonymous> (http://localhost:5173/src/app.js:22:5)
    at async load (http://localhost:5173/node_modules/.vite/deps/react.js?v=1234:100:20)
    at http://localhost:5173/src/main.js:3:1
    at eval (eval at run (http://localhost:5173/src/app.js:30:3), <anonymous>:1:7)
    at new Widget (webpack-internal:///./src/widget.js:5:11)
    at Array.map (<anonymous>)`;

const FIREFOX = `getX@http://localhost:5173/src/app.js:10:15
onClick/<@http://localhost:5173/src/app.js:22:5
@http://localhost:5173/src/main.js:3:1
run@http://localhost:5173/src/app.js line 30 > eval:1:7
promise callback*load@http://localhost:5173/node_modules/lib/index.js:8:3
`;

const SAFARI = `getX@http://localhost:5173/src/app.js:10:15
onClick@http://localhost:5173/src/app.js:22:5
map@[native code]
global code@http://localhost:5173/src/main.js:3:1
http://localhost:5173/src/anon.js:7:9`;

const NODE = `Error: contact user@example.com failed
    at Timeout.crash [as _onTimeout] (/srv/app/src/worker.js:12:11)
    at Object.<anonymous> (/srv/app/src/index.js:4:1)
    at Module._compile (node:internal/modules/cjs/loader:1554:14)
    at /srv/app/node_modules/express/lib/router/layer.js:95:5
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
    at async Promise.all (index 0)
    at main (C:\\app\\index.js:1:2)`;

describe('parseStack', () => {
  it('reads Chromium stacks, crash site last', () => {
    const frames = parseStack(CHROMIUM);
    expect(frames).toHaveLength(7);
    expect(frames.at(-1)).toEqual({ filename: 'http://localhost:5173/src/app.js', function: 'getX', lineno: 10, colno: 15, in_app: true });
    expect(frames.at(-2)).toMatchObject({ function: 'HTMLButtonElement.<anonymous>', lineno: 22, colno: 5 });
    expect(frames.at(-3)).toMatchObject({ function: 'load', filename: 'http://localhost:5173/node_modules/.vite/deps/react.js?v=1234', in_app: false });
    expect(frames.at(-4)).toMatchObject({ function: '?', filename: 'http://localhost:5173/src/main.js', lineno: 3, colno: 1 });
    // An eval frame points at the code that called eval.
    expect(frames.at(-5)).toMatchObject({ function: 'eval', filename: 'http://localhost:5173/src/app.js', lineno: 30, colno: 3 });
    expect(frames.at(-6)).toMatchObject({ function: 'new Widget', filename: 'webpack-internal:///./src/widget.js', lineno: 5 });
    expect(frames[0]).toMatchObject({ function: 'Array.map', filename: '<anonymous>', in_app: false });
  });

  it('reads Firefox stacks', () => {
    const frames = parseStack(FIREFOX);
    expect(frames.map((f) => f.function)).toEqual(['promise callback*load', 'run', '?', 'onClick', 'getX']);
    expect(frames.at(-1)).toEqual({ filename: 'http://localhost:5173/src/app.js', function: 'getX', lineno: 10, colno: 15, in_app: true });
    expect(frames[1]).toMatchObject({ filename: 'http://localhost:5173/src/app.js', lineno: 30 });
    expect(frames[0]?.in_app).toBe(false);
  });

  it('reads Safari stacks, including frames without a function name', () => {
    const frames = parseStack(SAFARI);
    expect(frames).toHaveLength(5);
    expect(frames[0]).toEqual({ filename: 'http://localhost:5173/src/anon.js', function: '?', lineno: 7, colno: 9, in_app: true });
    expect(frames[1]).toMatchObject({ function: '?', filename: 'http://localhost:5173/src/main.js', lineno: 3 });
    expect(frames[2]).toMatchObject({ function: 'map', filename: '[native code]', in_app: false });
    expect(frames.at(-1)).toMatchObject({ function: 'getX', lineno: 10, colno: 15 });
  });

  it('reads Node stacks and skips the message line even when it holds an @', () => {
    const frames = parseStack(NODE);
    expect(frames).toHaveLength(6);
    expect(frames.at(-1)).toEqual({ filename: '/srv/app/src/worker.js', function: 'Timeout.crash', lineno: 12, colno: 11, in_app: true });
    expect(frames.at(-3)).toMatchObject({ filename: 'node:internal/modules/cjs/loader', in_app: false });
    expect(frames.at(-4)).toMatchObject({ function: '?', filename: '/srv/app/node_modules/express/lib/router/layer.js', in_app: false });
    expect(frames[0]).toMatchObject({ function: 'main', filename: 'C:\\app\\index.js', lineno: 1, colno: 2 });
  });

  it('reads a live V8 stack from this process', () => {
    const frames = parseStack(new Error('here').stack);
    expect(frames.at(-1)?.filename).toMatch(/stack\.test\.ts$/);
    expect(frames.at(-1)?.in_app).toBe(true);
  });

  it('tolerates missing and garbage stacks', () => {
    expect(parseStack(undefined)).toEqual([]);
    expect(parseStack('just a message')).toEqual([]);
    expect(parseStack('x'.repeat(5000))).toEqual([]);
  });
});
