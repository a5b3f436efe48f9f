import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { testToolsVenv } from '../../../test-support/tools';
import { createS3Client } from '../s3-store';
import { freePort, waitFor } from './http';

export interface MotoServer {
  endpoint: string;
  client: S3Client;
  /** Fake credentials moto accepts, as the standard AWS env variables. */
  env: Record<string, string>;
  createBucket(name: string): Promise<void>;
  /** Output moto printed (its request log). */
  output(): string;
  stop(): Promise<void>;
}

// The SDK's notice that its 2027 releases need Node 22 says nothing about these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/**
 * `moto_server` (the S3 API, from the pinned tools venv in the machine's test cache, installed once per
 * machine) on 127.0.0.1 at a free port. `stop()` kills exactly that process. `env` adds moto settings
 * (`INITIAL_NO_AUTH_ACTION_COUNT` turns on its IAM authentication).
 */
export async function startMoto(options: { env?: Record<string, string> } = {}): Promise<MotoServer> {
  const venv = await testToolsVenv();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(venv.bin('moto_server'), ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...envFor(), PYTHONUNBUFFERED: '1', ...options.env },
  });
  child.stdout?.on('data', (c) => (output += c));
  child.stderr?.on('data', (c) => (output += c));
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    await waitFor(`moto_server on ${endpoint}`, async () => {
      if (exited) throw new Error(`moto_server exited:\n${output}`);
      return ping(endpoint);
    }, 60_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const client = createS3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS });
  return {
    endpoint,
    client,
    env: envFor(),
    createBucket: async (name) => {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    output: () => output,
    stop: async () => {
      client.destroy();
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}

function envFor(): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
}

function ping(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${endpoint}/`, { method: 'GET', agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
    req.end();
  });
}
