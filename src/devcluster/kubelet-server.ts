// The kubelet's HTTPS endpoint for `floe dev kubelet`: a real API server answers pods/log by calling
// https://<node InternalIP>:<daemonEndpoints.kubeletEndpoint.Port>/containerLogs/{ns}/{pod}/{container}.
// Served on 127.0.0.1 with a self-signed certificate made by openssl (kube-apiserver does not verify
// kubelet certificates unless given --kubelet-certificate-authority). No client authentication: 127.0.0.1 only.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { serveContainerLog } from './log-serving.ts';
import type { LogStore } from './logs.ts';
import { ApiError } from './status.ts';
import type { Pod } from './types.ts';

export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}

/** A self-signed key and certificate for 127.0.0.1 (openssl, as Debian ships it). */
export function selfSignedCert(cn: string): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-kubelet-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', `/CN=${cn}`,
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } catch (e) {
    throw new Error(`floe dev kubelet: could not make a TLS certificate with openssl (install Debian's openssl): ${(e as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startKubeletServer(pods: (ns: string, name: string) => Pod | undefined, logs: LogStore, nodeName: string, port = 0): Promise<KubeletServer> {
  const server = https.createServer(selfSignedCert(nodeName), (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const fail = (code: number, msg: string) => {
      if (res.headersSent) return void res.end();
      res.writeHead(code, { 'Content-Type': 'text/plain' });
      res.end(msg);
    };
    if (url.pathname === '/healthz') return fail(200, 'ok');
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m || req.method !== 'GET') return fail(404, '404 page not found');
    const [ns, name, container] = m.slice(1).map(decodeURIComponent);
    const pod = pods(ns, name);
    if (!pod) return fail(404, `pod "${name}" in namespace "${ns}" not found`);
    try {
      serveContainerLog(req, res, pod, container, logs, url.searchParams);
    } catch (e) {
      // The kubelet answers log errors as 400 with the message as text; the API server wraps it in a Status.
      if (e instanceof ApiError) return fail(e.code, e.status.message ?? 'error');
      fail(500, (e as Error).message);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
