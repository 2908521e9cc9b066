// Turns Error.stack strings (V8, Firefox, Safari) into frames, caller first and crash site last.
import type { Frame } from './types';

// V8: "    at fn (file:1:2)", "    at file:1:2", "    at async fn (file:1:2)".
const V8 = /^\s*at (?:(.*?) \((.*)\)|(.*))$/;
// V8 eval frames: "at eval (eval at fn (file:1:2), <anonymous>:1:1)": report the outer location.
const V8_EVAL = /^eval at .*?\((\S+?:\d+:\d+)\)/;
// Firefox and Safari: "fn@file:1:2", "@file:1:2", "global code@file:1:2".
const GECKO = /^\s*(.*?)@(.*)$/;
// Safari drops the "@" for anonymous functions: "http://host/app.js:1:2".
const BARE = /^\s*((?:https?|file|blob|webpack):\/\/?\S+:\d+(?::\d+)?)\s*$/;
// "file:line:col", either part optional.
const LOC = /^(.*?)(?::(\d+))?(?::(\d+))?$/;

export function parseStack(stack: string | undefined): Frame[] {
  if (typeof stack !== 'string') return [];
  // V8 puts the message first, and a message may hold an "@": read only "at" lines then.
  const v8 = /^\s*at /m.test(stack);
  const frames: Frame[] = [];
  for (const line of stack.split('\n').slice(0, 100)) {
    const f = line.length < 1024 ? parseLine(line, v8) : undefined;
    if (f) frames.push(f);
  }
  return frames.reverse();
}

function parseLine(line: string, v8: boolean): Frame | undefined {
  let m = V8.exec(line);
  if (v8) {
    if (!m) return undefined;
    let loc = (m[2] ?? m[3] ?? '').trim();
    const ev = V8_EVAL.exec(loc);
    if (ev) loc = ev[1] ?? loc;
    // "at async Promise.all (index 0)" has no location worth a frame.
    if (/^index \d+$/.test(loc)) return undefined;
    return frame(m[1]?.replace(/^async /, ''), loc);
  }
  m = GECKO.exec(line) ?? BARE.exec(line);
  if (!m) return undefined;
  const fn = m.length > 2 ? m[1] : undefined;
  // Firefox eval: "fn@file line 2 > eval:1:1": keep the file that called eval.
  const loc = (m[m.length - 1] ?? '').replace(/ line (\d+) > (?:eval|Function).*$/, ':$1');
  return frame(fn, loc);
}

function frame(fn: string | undefined, loc: string): Frame {
  const m = LOC.exec(loc) ?? [];
  const f: Frame = { filename: m[1] || '<unknown>', function: cleanName(fn) };
  if (m[2]) f.lineno = +m[2];
  if (m[3]) f.colno = +m[3];
  f.in_app = isInApp(f.filename ?? '');
  return f;
}

function cleanName(fn: string | undefined): string {
  if (!fn || /^(?:global|eval|module) code$/.test(fn)) return '?';
  // Firefox marks nested anonymous functions "outer/<"; Safari may prefix "async*"; V8 adds " [as alias]".
  return fn.replace(/\/<+$/, '').replace(/^async\*/, '').replace(/ \[as [^\]]+\]$/, '') || '?';
}

/** Library and runtime frames are not the application's own code. */
function isInApp(file: string): boolean {
  return !/node_modules|^node:|^internal[\\/]|^native$|\[native code\]|^<anonymous>$|-extension:\/\//.test(file);
}
