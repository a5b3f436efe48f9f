import { createServer, connect, type Socket } from 'node:net';

export interface CuttingProxy {
  /** `http://127.0.0.1:<port>`: use it as the S3 endpoint. */
  readonly endpoint: string;
  /** PUT requests seen so far. */
  puts(): number;
  /** Resolves when the proxy has died (after the `cutAtPut`th PUT started). */
  readonly died: Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a server that dies in the middle of the `cutAtPut`th PUT request: it
 * forwards the first half of the chunk holding that request's start, then closes every connection
 * and stops listening, as a server that crashed would (later connections are refused).
 */
export function startCuttingProxy(target: { host: string; port: number }, cutAtPut: number): Promise<CuttingProxy> {
  const sockets = new Set<Socket>();
  let puts = 0;
  let dead = false;
  let markDied: () => void = () => undefined;
  const died = new Promise<void>((resolve) => (markDied = resolve));
  const server = createServer((client) => {
    if (dead) return void client.destroy();
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    upstream.on('end', () => client.end());
    client.on('end', () => upstream.end());
    client.on('data', (chunk: Buffer) => {
      if (dead) return;
      const text = chunk.toString('latin1');
      const starts = [...text.matchAll(/(?:^|\r\n)PUT \//g)].map((m) => m.index + (m[0].startsWith('\r\n') ? 2 : 0));
      for (const at of starts) {
        puts += 1;
        if (puts === cutAtPut) {
          upstream.write(chunk.subarray(0, at + Math.floor((chunk.length - at) / 2)));
          die();
          return;
        }
      }
      upstream.write(chunk);
    });
  });
  const die = () => {
    dead = true;
    server.close();
    for (const s of sockets) s.destroy();
    markDied();
  };
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        puts: () => puts,
        died,
        close: async () => {
          if (!dead) die();
        },
      });
    });
  });
}
