// Measures what a browser app pays: init + automatic capture + captureException, minified and gzipped.
// Fails above the 5 KB budget. Also reports the full <script> bundle when it has been built.
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const LIMIT = 5 * 1024;
const entry = `import { init, captureException } from './src/browser';
init({ dsn: 'https://key@errors.example.com/1' });
captureException(new Error('x'));`;
const out = await build({
  stdin: { contents: entry, resolveDir: process.cwd(), loader: 'ts' },
  bundle: true, minify: true, write: false, format: 'iife', target: 'es2019', platform: 'browser', legalComments: 'none',
});
const code = out.outputFiles[0].contents;
const gz = gzipSync(code, { level: 9 }).length;
console.log(`init + automatic capture + captureException: ${code.length} B minified, ${gz} B (${(gz / 1024).toFixed(2)} KB) minified+gzip, limit ${LIMIT} B`);
if (existsSync('dist/faultline.min.js')) {
  const full = readFileSync('dist/faultline.min.js');
  console.log(`dist/faultline.min.js (whole API): ${full.length} B minified, ${gzipSync(full, { level: 9 }).length} B minified+gzip`);
}
if (gz > LIMIT) {
  console.error(`Size budget exceeded: ${gz} B > ${LIMIT} B`);
  process.exit(1);
}
