#!/usr/bin/env node
import { runCli } from './run';

// `npx nx-vllm-wheels <command>`: process plumbing only (argv, env, signals, exit code).
const stopSignal = new Promise<string>((resolve) => {
  const stop = (signal: NodeJS.Signals) => {
    resolve(signal);
    // A second signal while stopping: leave now.
    process.once(signal, () => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
});

runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  stopSignal,
}).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`nx-vllm-wheels: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
