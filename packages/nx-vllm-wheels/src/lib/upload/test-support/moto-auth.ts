import type { S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testToolsVenv } from '../../../test-support/tools';
import { createS3Client } from '../../cache-server/s3-store';
import { startMoto, type MotoServer } from '../../cache-server/test-support/moto';
import { run } from '../../process';

export interface AuthMoto {
  moto: MotoServer;
  /** An IAM user's key that may do anything in S3; any other key or secret is refused. */
  key: { id: string; secret: string };
  /** A client signed with `key`. */
  client: S3Client;
  /** The key as the standard AWS env variables. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

const SETUP = `
import boto3, json, sys
endpoint, bucket = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
iam = boto3.client("iam", **kw)
iam.create_user(UserName="publisher")
iam.put_user_policy(UserName="publisher", PolicyName="s3", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="publisher")["AccessKey"]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
s3.create_bucket(Bucket=bucket)
bogus = boto3.client("s3", **kw)
for _ in range(10):  # use up the unauthenticated requests: from here on, signatures are checked
    try:
        bogus.list_objects_v2(Bucket=bucket)
    except Exception:
        break
else:
    sys.exit("moto never started checking credentials")
print(json.dumps({"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
`;

/**
 * moto_server with its IAM authentication on (signatures are checked, as AWS does), one IAM user
 * allowed all of S3, and `bucket` created by it. The first few requests set this up unauthenticated.
 */
export async function startAuthMoto(bucket: string): Promise<AuthMoto> {
  const moto = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: '6' } });
  const cwd = mkdtempSync(join(tmpdir(), 'moto-auth-'));
  try {
    const venv = await testToolsVenv();
    const out = await run(venv.python, ['-c', SETUP, moto.endpoint, bucket], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeoutMs: 120_000 });
    const key = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { id: string; secret: string };
    const client = createS3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: key.id, secretAccessKey: key.secret } });
    const stop = async () => {
      client.destroy();
      await moto.stop();
    };
    return { moto, key, client, env: { AWS_ACCESS_KEY_ID: key.id, AWS_SECRET_ACCESS_KEY: key.secret, AWS_REGION: 'us-east-1' }, stop };
  } catch (e) {
    await moto.stop();
    throw e;
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
