#!/usr/bin/env node
import { whenParentExits } from '../lib/process';
import { runCli } from './run';

// `npx nx-vllm-wheels <command>`: process plumbing only (argv, env, signals, exit code).
const stopRequest = new Promise<string>((resolve) => {
  const stop = (signal: NodeJS.Signals) => {
    resolve(`Received ${signal}`);
    // A second signal while stopping: leave now.
    process.once(signal, () => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // npx (npm exec) runs the command in a shell and passes a SIGTERM it gets to that shell only, which
  // dies without passing it on: the server would be left running, orphaned. So under npx the shell's
  // exit is the stop request. Not otherwise: a server started in the background (`nohup … &`) must
  // outlive the shell that started it.
  if (process.env.npm_command === 'exec') {
    void whenParentExits().then((ppid) => resolve(`npx stopped (the shell it ran the server in, pid ${ppid}, exited)`));
  }
});

runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  stopRequest,
}).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`nx-vllm-wheels: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
