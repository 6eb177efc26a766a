// The vendored yaml modules (designer-api/web/vendor/yaml) must be exactly
// the browser build of the yaml version in package.json.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function files(dir, base = dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))]).sort();
}

test('vendored yaml matches node_modules/yaml/browser/dist', () => {
  const want = path.join(here, 'node_modules', 'yaml', 'browser', 'dist');
  const got = path.join(here, '..', 'vendor', 'yaml');
  const pkg = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8'));
  const installed = JSON.parse(fs.readFileSync(path.join(here, 'node_modules', 'yaml', 'package.json'), 'utf8'));
  assert.equal(installed.version, pkg.devDependencies.yaml, 'run npm ci in designer-api/web/e2e');
  const wantFiles = files(want);
  assert.deepEqual(files(got).filter((f) => f !== 'LICENSE'), wantFiles, 'file list differs: copy node_modules/yaml/browser/dist/ to designer-api/web/vendor/yaml/');
  for (const f of wantFiles) {
    assert.ok(fs.readFileSync(path.join(got, f)).equals(fs.readFileSync(path.join(want, f))), `${f} differs from yaml ${installed.version}`);
  }
});
