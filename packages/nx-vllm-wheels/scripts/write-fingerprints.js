#!/usr/bin/env node
// Part of `npm run build`: each cached step's code fingerprint, from the compiled import closure of its
// executor, into dist/fingerprints.json (see src/plugin/fingerprint.ts). Fails on an import of no file.
const { writeFingerprintsFile } = require('../dist/plugin/fingerprint.js');
const file = writeFingerprintsFile();
const fingerprints = require(file);
for (const [kind, { hash, files }] of Object.entries(fingerprints)) console.log(`code fingerprint ${kind}: ${hash} (${files.length} files)`);
