import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CacheServer } from '../lib/cache-server';
import { VllmWheelsError } from '../lib/errors';
import { describeFailure } from '../lib/failure';
import type { Logger } from '../lib/log';
import { CACHE_SERVER_USAGE, HelpRequested, parseCacheServerArgs, startFromConfig } from './cache-server-command';

const USAGE = `Usage: nx-vllm-wheels <command> [options]

Commands:
  cache-server   serve Nx's self-hosted remote cache API from a directory or S3 (--help for its options)
`;

export interface CliIo {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout(line: string): void;
  stderr(line: string): void;
  /** Resolves when the process is asked to stop, saying how ("Received SIGTERM"). */
  stopRequest: Promise<string>;
}

/** The `nx-vllm-wheels` command; resolves with the exit code. A thin adapter over src/lib. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.stdout(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version') {
    io.stdout(JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version);
    return 0;
  }
  if (command !== 'cache-server') {
    io.stderr(`Unknown command ${JSON.stringify(command.slice(0, 40))}; the commands are: cache-server.\n\n${USAGE}`);
    return 2;
  }
  const log = timestampedLogger(io);
  let server: CacheServer;
  try {
    const config = parseCacheServerArgs(rest, { env: io.env, cwd: io.cwd });
    server = await startFromConfig(config, log, io.env);
  } catch (e) {
    if (e instanceof HelpRequested) {
      io.stdout(CACHE_SERVER_USAGE);
      return 0;
    }
    io.stderr(`nx-vllm-wheels cache-server: ${describeFailure(e, io.env)}`);
    return e instanceof VllmWheelsError ? e.exitCode : 1;
  }
  const reason = await io.stopRequest;
  log.info(`${reason}: finishing requests in flight (up to 10 s), then stopping.`);
  await server.close(10_000);
  log.info('Stopped.');
  return 0;
}

/** Server log lines with an ISO timestamp; warnings and errors to stderr. */
function timestampedLogger(io: CliIo): Logger {
  const stamp = () => new Date().toISOString();
  return {
    step: (m) => io.stdout(`${stamp()} ${m}`),
    info: (m) => io.stdout(`${stamp()} ${m}`),
    warn: (m) => io.stderr(`${stamp()} WARNING: ${m}`),
    error: (m) => io.stderr(`${stamp()} ERROR: ${m}`),
  };
}
