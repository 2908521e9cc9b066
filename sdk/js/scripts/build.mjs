// Builds ESM + CommonJS for both entry points, the minified <script> bundle, and type declarations.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const common = { bundle: true, target: 'es2019', logLevel: 'warning', legalComments: 'none' };
await Promise.all([
  ...['browser', 'node'].flatMap((entry) =>
    ['esm', 'cjs'].map((format) =>
      build({
        ...common,
        entryPoints: [`src/${entry}.ts`],
        outfile: `dist/${entry}.${format === 'esm' ? 'js' : 'cjs'}`,
        format,
        platform: entry === 'node' ? 'node' : 'browser',
      }),
    ),
  ),
  // For a <script> tag: everything under window.Faultline.
  build({ ...common, entryPoints: ['src/browser.ts'], outfile: 'dist/faultline.min.js', format: 'iife', globalName: 'Faultline', minify: true, platform: 'browser' }),
]);
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
console.log('built dist/');
