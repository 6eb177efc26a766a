// The vendored yaml module (designer-api/web/vendor/yaml.js) must be exactly
// what scripts/vendor-yaml.mjs bundles from the yaml and esbuild versions in
// package.json.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleYaml, outFile } from '../../../scripts/vendor-yaml.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

test('vendored yaml.js is the bundle of node_modules/yaml', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8'));
  for (const name of ['yaml', 'esbuild']) {
    const file = path.join(here, 'node_modules', name, 'package.json');
    assert.ok(fs.existsSync(file), `${name} is not installed: run npm ci in designer-api/web/e2e`);
    const installed = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(installed.version, pkg.devDependencies[name], `${name}: run npm ci in designer-api/web/e2e`);
  }
  assert.ok(fs.readFileSync(outFile, 'utf8') === await bundleYaml(),
    `designer-api/web/vendor/yaml.js differs from yaml ${pkg.devDependencies.yaml} bundled by esbuild ${pkg.devDependencies.esbuild}: run node scripts/vendor-yaml.mjs`);
});
