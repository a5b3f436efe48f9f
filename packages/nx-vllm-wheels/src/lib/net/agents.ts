import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { describeProxy, proxyFailureReason } from './fetch';
import { chooseProxy, type ProxyChoice, type ProxyEnv } from './proxy';

type Callback = (err: Error | null, stream: Duplex) => void;

/**
 * node:http agents that tunnel through the proxy `env` names for `url` (hpagent: CONNECT, for http
 * and https targets alike), or nothing when `url` goes direct. One decision per client: every request
 * of an S3 client goes to the same endpoint. Keep-alive and 50 sockets, like the AWS SDK's own agents.
 */
export function proxyAgentsFor(url: string, env: ProxyEnv): { httpAgent?: HttpProxyAgent; httpsAgent?: HttpsProxyAgent } {
  const proxy = chooseProxy(url, env);
  if (!proxy) return {};
  const options = { proxy: proxy.url, keepAlive: true, maxSockets: 50 };
  if (new URL(url).protocol === 'https:') return { httpsAgent: explained(new HttpsProxyAgent(options), proxy) };
  return { httpAgent: explained(new HttpProxyAgent(options), proxy) };
}

/** Failures to reach the proxy, or its refusal, say so and name it (password masked). */
function explained<A extends HttpProxyAgent | HttpsProxyAgent>(agent: A, proxy: ProxyChoice): A {
  const original = (agent as unknown as { createConnection(o: ClientRequestArgs, cb: Callback): void }).createConnection.bind(agent);
  Object.assign(agent, {
    createConnection(options: ClientRequestArgs, callback: Callback) {
      original(options, (err, stream) => {
        if (!err) return callback(null, stream);
        const reason = proxyFailureReason(err) ?? err.message;
        const wrapped = Object.assign(new Error(`cannot connect to ${options.host}:${options.port} through ${describeProxy(proxy)}: ${reason}`, { cause: err }), {
          code: (err as NodeJS.ErrnoException).code,
        });
        callback(wrapped, stream);
      });
    },
  });
  return agent;
}
