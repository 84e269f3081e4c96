// A small JSON client for any Kubernetes API server, authenticated from a kubeconfig by the official client
// (applyToHTTPSOptions), that hands back the wire JSON as it is: the process kubelet works on plain objects
// (RFC 3339 strings, unknown fields kept), not the client's typed models.
import http from 'node:http';
import https from 'node:https';
import { Watch, type KubeConfig } from '@kubernetes/client-node';

export interface RawResponse {
  status: number;
  body: unknown;
  text: string;
}

export class RawClient {
  readonly server: URL;

  constructor(
    readonly kc: KubeConfig,
    private readonly userAgent = 'floe-dev-kubelet',
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig: no current cluster');
    this.server = new URL(cluster.server);
  }

  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<RawResponse> {
    const url = new URL(path, this.server);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const opts: https.RequestOptions = {
      method,
      headers: {
        Accept: 'application/json',
        // Not curl's: kube-apiserver 1.20 panics pretty-printing for curl/* agents.
        'User-Agent': this.userAgent,
        ...(payload ? { 'Content-Type': contentType, 'Content-Length': payload.length } : {}),
      },
    };
    await this.kc.applyToHTTPSOptions(opts);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON (e.g. a log): keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
        res.on('error', reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like request, but throws an Error with the server's message unless the status is 2xx. */
  async must(method: string, path: string, body?: unknown, contentType?: string): Promise<unknown> {
    const r = await this.request(method, path, body, contentType);
    if (r.status < 200 || r.status > 299) throw new ApiCallError(method, path, r);
    return r.body;
  }

  watch(path: string, query: Record<string, string | boolean | number>, onEvent: (type: string, obj: unknown) => void, onDone: (err: unknown) => void): Promise<{ abort(): void }> {
    return new Watch(this.kc).watch(path, query, onEvent, onDone);
  }
}

export class ApiCallError extends Error {
  readonly status: number;
  constructor(method: string, path: string, r: RawResponse) {
    const msg = (r.body as { message?: string } | undefined)?.message ?? r.text.slice(0, 300);
    super(`${method} ${path}: ${r.status} ${msg}`);
    this.status = r.status;
  }
}
