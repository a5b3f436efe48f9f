const preset = require('./jest.preset.js');

// Two projects: fast unit specs next to the code, and e2e specs that run real nx, git, python and
// compilers in temporary workspaces (serial: the machine has 2 cores and the builds use both).
module.exports = {
  projects: [
    { ...preset, displayName: 'unit', testMatch: ['<rootDir>/packages/nx-vllm-wheels/src/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts'] },
    { ...preset, displayName: 'e2e', testMatch: ['<rootDir>/packages/nx-vllm-wheels/e2e/**/*.spec.ts'] },
  ],
  maxWorkers: 1,
  globalSetup: '<rootDir>/tools/jest/global-setup.ts',
  // e2e tests build real wheels; units finish in milliseconds whatever the limit.
  testTimeout: 15 * 60 * 1000,
  reporters: ['default', '<rootDir>/tools/jest/summary-reporter.js'],
};
