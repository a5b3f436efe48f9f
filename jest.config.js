const preset = require('./jest.preset.js');

// Two projects: fast unit specs next to the code, and e2e specs that run real nx, git, python and
// compilers in temporary workspaces. Two spec files run at a time, whichever project they are from: most
// of an e2e spec's time is nx, git and pip starting and waiting, not compiling, so on this 2-core machine
// two workers finish in about 60% of one worker's time (docs/decisions.md 61). Nothing a spec asserts
// may depend on timing.
module.exports = {
  projects: [
    { ...preset, displayName: 'unit', testMatch: ['<rootDir>/packages/nx-vllm-wheels/src/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts'] },
    { ...preset, displayName: 'e2e', testMatch: ['<rootDir>/packages/nx-vllm-wheels/e2e/**/*.spec.ts'] },
  ],
  maxWorkers: 2,
  globalSetup: '<rootDir>/tools/jest/global-setup.ts',
  // e2e tests build real wheels; units finish in milliseconds whatever the limit.
  testTimeout: 15 * 60 * 1000,
  reporters: ['default', '<rootDir>/tools/jest/summary-reporter.js'],
};
