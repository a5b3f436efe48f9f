import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { proxyAgentsFor } from './agents';
import type { ProxyEnv } from './proxy';

export interface S3ClientTarget {
  /** An S3-compatible endpoint (MinIO, R2, moto); AWS when absent. */
  readonly endpoint?: string;
  readonly region?: string;
  readonly forcePathStyle?: boolean;
  /** Explicit credentials; default the SDK's chain (environment, shared config, SSO, instance roles). */
  readonly credentials?: S3ClientConfig['credentials'];
}

/**
 * What every S3 client of the plugin shares (the index publisher's and the cache server's): AWS, MinIO
 * or R2, checksums only where S3 requires them (MinIO and R2 reject the SDK's streaming checksum
 * trailers), no SDK console logging (callers report failures themselves), a 10 s connection timeout,
 * and the proxy `env` names for the endpoint. `fallbackRegion` applies when neither the target nor
 * AWS_REGION / AWS_DEFAULT_REGION names one (undefined: the SDK's own chain, e.g. ~/.aws/config).
 */
export function s3ClientConfig(
  target: S3ClientTarget,
  env: ProxyEnv,
  options: { fallbackRegion?: string; socketTimeoutMs?: number } = {},
): S3ClientConfig {
  const region = target.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? options.fallbackRegion;
  return {
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    ...(region ? { region } : {}),
    forcePathStyle: target.forcePathStyle ?? false,
    ...(target.credentials ? { credentials: target.credentials } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    logger: { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    requestHandler: s3RequestHandler({ endpoint: target.endpoint, region }, env, {
      connectionTimeout: 10_000,
      ...(options.socketTimeoutMs ? { socketTimeout: options.socketTimeoutMs } : {}),
    }),
  };
}

/**
 * The AWS SDK's request handler options (its NodeHttpHandler) for an S3 client: the timeouts given,
 * plus proxy agents when `env` sends the endpoint (AWS: `https://s3.<region>.amazonaws.com`) through
 * a proxy. A NO_PROXY entry for AWS should name a domain (`.amazonaws.com`), not one bucket's host.
 */
function s3RequestHandler(target: { endpoint?: string; region?: string }, env: ProxyEnv, timeouts: { connectionTimeout: number; socketTimeout?: number }) {
  const url = target.endpoint ?? (target.region ? `https://s3.${target.region}.amazonaws.com` : 'https://s3.amazonaws.com');
  return { ...timeouts, ...proxyAgentsFor(url, env) };
}

