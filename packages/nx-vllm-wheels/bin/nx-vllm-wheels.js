#!/usr/bin/env node
// The package's command. A committed shim, so that npm can link it at install time, before `prepare`
// has compiled dist/ (npm links a workspace package's bins before running its lifecycle scripts).
require('../dist/cli/main.js');
