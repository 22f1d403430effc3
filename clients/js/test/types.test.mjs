// The hand-written declarations (src/*.d.ts) against the code: tsc compiles a file that
// uses every export strictly, and every name the module exports at run time is declared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

test('the declarations compile against a strict use of every export', async () => {
  const tsc = here('../node_modules/typescript/bin/tsc');
  const run = promisify(execFile)(process.execPath, [tsc, '-p', here('types/tsconfig.json')], {
    timeout: 120_000,
  });
  await assert.doesNotReject(run, (err) => `tsc failed:\n${err.stdout}${err.stderr}`);
});

for (const module of ['psycho', 'store', 'presence', 'clock']) {
  test(`every run-time export of ${module}.js is declared`, async () => {
    const declared = await readFile(here(`../src/${module}.d.ts`), 'utf8');
    const exported = Object.keys(await import(`../src/${module}.js`));
    assert.ok(exported.length > 0);
    for (const name of exported) {
      const pattern = new RegExp(`^export (declare )?(class|function|const|let) ${name}\\b`, 'm');
      assert.match(declared, pattern, `${name} is exported but not declared in ${module}.d.ts`);
    }
  });
}
