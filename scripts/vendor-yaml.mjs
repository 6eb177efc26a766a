#!/usr/bin/env node
// Writes designer-api/web/vendor/yaml.js: the browser ES module entry of the
// `yaml` package (browser/index.js, its exports' "default" condition) bundled
// into one ES module by esbuild, both taken from designer-api/web/e2e, where
// package.json and package-lock.json pin their versions. The designer loads
// it as one module instead of the package's 72 (see bench/README.md,
// "Designer"); nothing is built at run or test time.
//
//   npm ci --prefix designer-api/web/e2e && node scripts/vendor-yaml.mjs
//
// To update the library: bump `yaml` (or `esbuild`) in
// designer-api/web/e2e/package.json, `npm install` there, run this script and
// commit the new vendor/yaml.js. designer-api/web/e2e/vendor.test.mjs fails
// while the committed file differs from what this script produces.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const e2eDir = path.join(root, 'designer-api', 'web', 'e2e');
export const outFile = path.join(root, 'designer-api', 'web', 'vendor', 'yaml.js');

// The esbuild options, also written into the file's header as the CLI
// command they equal. Not minified: the vendored code stays readable and
// reviewable, and the designer's first render measured no faster minified
// (bench/README.md).
const entry = 'node_modules/yaml/browser/index.js';
const cli = `esbuild ${entry} --bundle --format=esm --platform=browser --banner:js=<this header>`;

function header(yamlVersion, esbuildVersion, licence) {
  const lines = [
    `yaml ${yamlVersion} (https://eemeli.org/yaml/, npm package \`yaml\`), its browser`,
    `ES module entry bundled into this one file. Generated: do not edit.`,
    ``,
    `Produced by scripts/vendor-yaml.mjs with esbuild ${esbuildVersion} (npm package`,
    `\`esbuild\`), both installed by \`npm ci --prefix designer-api/web/e2e\`; it runs,`,
    `in designer-api/web/e2e, the equivalent of`,
    `  ${cli}`,
    `designer-api/web/e2e/vendor.test.mjs checks that this file is that output.`,
    ``,
    `The yaml package's licence (ISC, its LICENSE file):`,
    ``,
    ...licence.trimEnd().split('\n'),
  ];
  return '/*\n' + lines.map((l) => (l ? ` * ${l}` : ' *')).join('\n') + '\n */';
}

// bundleYaml returns the contents of vendor/yaml.js built from the packages
// installed in designer-api/web/e2e/node_modules.
export async function bundleYaml() {
  const require = createRequire(path.join(e2eDir, 'package.json'));
  const esbuild = require('esbuild');
  const pkgDir = path.dirname(require.resolve('yaml/package.json'));
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  if (pkg.exports['.'].default !== './browser/index.js') {
    throw new Error(`yaml ${pkg.version}: browser entry is ${pkg.exports['.'].default}, not ./browser/index.js: update scripts/vendor-yaml.mjs`);
  }
  const licence = fs.readFileSync(path.join(pkgDir, 'LICENSE'), 'utf8');
  const res = await esbuild.build({
    absWorkingDir: e2eDir, // the paths in the bundle's comments are relative to it
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    banner: { js: header(pkg.version, esbuild.version, licence) },
    write: false,
    logLevel: 'warning',
  });
  return res.outputFiles[0].text;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const text = await bundleYaml();
  fs.writeFileSync(outFile, text);
  console.log(`wrote ${path.relative(root, outFile)} (${text.length} bytes)`);
}
