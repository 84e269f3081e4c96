// Core/v1 operations whose answers the dev cluster must give as the real API server does, each with the
// observation expected (recorded against kube-apiserver v1.20.2). test/devcluster/fidelity.test.ts runs them
// against the dev cluster in every `npm test`; test/conformance/differential.test.ts runs them against both
// servers and also asserts that the two observations are the same.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RawClient, RawResponse } from '../../src/devcluster/raw-client.ts';

export interface CaseContext {
  client: RawClient;
  /** A fresh namespace for this case. */
  ns: string;
  /** Both servers compact every this many ms (the conformance server via FLOE_KUBE_COMPACTION_INTERVAL). */
  compactionIntervalMs: number;
}

export interface ApiCase {
  name: string;
  run(c: CaseContext): Promise<unknown>;
  expect: unknown;
}

/** The compaction interval the cases assume on both servers. */
export const CASE_COMPACTION_MS = 2000;

const QUANTITY_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

type StatusBody = { code?: number; reason?: string; message?: string; details?: { causes?: { reason?: string; field?: string }[] } };

/** What a failed write looks like, without messages that name versions. */
function statusOf(r: RawResponse): unknown {
  const b = (r.body ?? {}) as StatusBody;
  return { code: r.status, reason: b.reason, causes: b.details?.causes?.map((c) => [c.reason, c.field]) };
}

const pod = (name: string, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, ...meta },
  spec: { containers: [{ name: 'c', image: 'busybox', command: ['true'] }], ...extra },
});

/** The watch events on one pod from `rv` until it is DELETED (or 10 s pass). */
async function watchUntilDeleted(c: CaseContext, name: string, rv: string, act: () => Promise<unknown>): Promise<{ type: string; deletionTimestamp: boolean; grace?: number }[]> {
  const events: { type: string; deletionTimestamp: boolean; grace?: number }[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const ctl = await c.client.watch(`/api/v1/namespaces/${c.ns}/pods`, { resourceVersion: rv, fieldSelector: `metadata.name=${name}` }, (type, o) => {
    const m = (o as { metadata?: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number } }).metadata ?? {};
    events.push({ type, deletionTimestamp: Boolean(m.deletionTimestamp), grace: m.deletionGracePeriodSeconds });
    if (type === 'DELETED') done();
  }, () => done());
  await act();
  await Promise.race([finished, sleep(10_000)]);
  ctl.abort();
  return events;
}

export const API_CASES: ApiCase[] = [
  {
    name: 'a malformed quantity is a 400 decoding error, not a 422',
    run: async (c) => {
      const r = await c.client.request('POST', `/api/v1/namespaces/${c.ns}/pods`, pod('q', { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: 'two' } } }] }));
      return { ...(statusOf(r) as object), mentionsRegex: ((r.body as StatusBody).message ?? '').includes(QUANTITY_MSG) };
    },
    expect: { code: 400, reason: 'BadRequest', causes: undefined, mentionsRegex: true },
  },
  {
    name: 'containerPort 0 is Required',
    run: async (c) => statusOf(await c.client.request('POST', `/api/v1/namespaces/${c.ns}/pods`, pod('p', { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 0 }] }] }))),
    expect: { code: 422, reason: 'Invalid', causes: [['FieldValueRequired', 'spec.containers[0].ports[0].containerPort']] },
  },
  {
    name: 'a label key with a bad prefix and an empty name gives all four causes',
    run: async (c) => statusOf(await c.client.request('POST', `/api/v1/namespaces/${c.ns}/pods`, pod('l', {}, { labels: { [`${'P'.repeat(254)}/`]: 'v' } }))),
    expect: { code: 422, reason: 'Invalid', causes: Array(4).fill(['FieldValueInvalid', 'metadata.labels']) },
  },
  {
    name: 'deleting a pod with no node: MODIFIED with deletionTimestamp, then DELETED carrying it; the answer is the deleted pod',
    run: async (c) => {
      const created = (await c.client.must('POST', `/api/v1/namespaces/${c.ns}/pods`, pod('d'))) as { metadata: { resourceVersion: string } };
      let answer: { metadata?: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number } } = {};
      const events = await watchUntilDeleted(c, 'd', created.metadata.resourceVersion, async () => {
        answer = (await c.client.must('DELETE', `/api/v1/namespaces/${c.ns}/pods/d`)) as typeof answer;
      });
      return { events, answer: { deletionTimestamp: Boolean(answer.metadata?.deletionTimestamp), grace: answer.metadata?.deletionGracePeriodSeconds } };
    },
    expect: {
      events: [
        { type: 'MODIFIED', deletionTimestamp: true, grace: 0 },
        { type: 'DELETED', deletionTimestamp: true, grace: 0 },
      ],
      answer: { deletionTimestamp: true, grace: 0 },
    },
  },
  {
    name: 'deleting a pod on a node is graceful (the pod stays, marked); a force delete then removes it',
    run: async (c) => {
      // Bound to a node no kubelet runs: nothing finishes the graceful deletion but the force delete.
      const created = (await c.client.must('POST', `/api/v1/namespaces/${c.ns}/pods`, pod('g', { nodeName: 'no-such-node', terminationGracePeriodSeconds: 30 }))) as { metadata: { resourceVersion: string } };
      let first: { metadata?: { deletionGracePeriodSeconds?: number } } = {};
      let still = 0;
      const events = await watchUntilDeleted(c, 'g', created.metadata.resourceVersion, async () => {
        first = (await c.client.must('DELETE', `/api/v1/namespaces/${c.ns}/pods/g`)) as typeof first;
        still = (await c.client.request('GET', `/api/v1/namespaces/${c.ns}/pods/g`)).status;
        await c.client.must('DELETE', `/api/v1/namespaces/${c.ns}/pods/g`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
      });
      return { firstGrace: first.metadata?.deletionGracePeriodSeconds, stillThere: still, events };
    },
    expect: {
      firstGrace: 30,
      stillThere: 200,
      events: [
        { type: 'MODIFIED', deletionTimestamp: true, grace: 30 },
        { type: 'MODIFIED', deletionTimestamp: true, grace: 0 },
        { type: 'DELETED', deletionTimestamp: true, grace: 0 },
      ],
    },
  },
  {
    name: 'pods/log of a pod without a node is 204 No Content',
    run: async (c) => {
      await c.client.must('POST', `/api/v1/namespaces/${c.ns}/pods`, pod('nolog'));
      const r = await c.client.request('GET', `/api/v1/namespaces/${c.ns}/pods/nolog/log`);
      return { code: r.status, text: r.text };
    },
    expect: { code: 204, text: '' },
  },
  {
    name: 'after compaction, a list at an exact old resourceVersion is 410 Expired',
    run: async (c) => {
      const mark = ((await c.client.must('GET', `/api/v1/namespaces/${c.ns}/configmaps`)) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
      await c.client.must('POST', `/api/v1/namespaces/${c.ns}/configmaps`, { metadata: { name: 'after-mark' } });
      // Each compaction goes to the revision the previous one saw: the mark is gone after two or three.
      await sleep(c.compactionIntervalMs * 3 + 500);
      await c.client.must('POST', `/api/v1/namespaces/${c.ns}/configmaps`, { metadata: { name: 'later' } });
      await sleep(c.compactionIntervalMs * 2 + 500);
      const list = await c.client.request('GET', `/api/v1/namespaces/${c.ns}/configmaps?resourceVersion=${mark}&resourceVersionMatch=Exact`);
      // (A watch from there is not compared: the real server serves watches from its watch cache, which
      // keeps at least 75 s of events whatever etcd compacted; see docs/devcluster.md.)
      return { list: statusOf(list) };
    },
    expect: { list: { code: 410, reason: 'Expired', causes: undefined } },
  },
  {
    name: 'server-side apply tracks field managers: a conflicting apply is a 409 FieldManagerConflict, force takes over, an unapplied field goes',
    run: async (c) => {
      const path = `/api/v1/namespaces/${c.ns}/pods/ssa`;
      const apply = (labels: Record<string, string>, q = '') =>
        c.client.request('PATCH', `${path}?fieldManager=alice${q}`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ssa', labels }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } }, 'application/apply-patch+yaml');
      type P = { metadata?: { labels?: Record<string, string>; managedFields?: { manager: string; operation: string; fieldsV1: { 'f:metadata'?: { 'f:labels'?: Record<string, unknown> } } }[] } };
      const view = (r: RawResponse) => {
        const b = r.body as P;
        return {
          code: r.status,
          labels: b.metadata?.labels,
          managers: (b.metadata?.managedFields ?? []).map((m) => [m.manager, m.operation, Object.keys(m.fieldsV1['f:metadata']?.['f:labels'] ?? {})]),
        };
      };
      const created = view(await apply({ a: '1', b: '1' }));
      const bob = view(await c.client.request('PATCH', `${path}?fieldManager=bob`, { metadata: { labels: { a: '2' } } }, 'application/merge-patch+json'));
      const conflict = statusOf(await apply({ a: '1', b: '1' }));
      const forced = view(await apply({ a: '1', b: '1' }, '&force=true'));
      const dropped = view(await apply({ a: '1' }));
      return { created, bob, conflict, forced, dropped };
    },
    expect: {
      created: { code: 201, labels: { a: '1', b: '1' }, managers: [['alice', 'Apply', ['f:a', 'f:b']]] },
      bob: { code: 200, labels: { a: '2', b: '1' }, managers: [['alice', 'Apply', ['f:b']], ['bob', 'Update', ['f:a']]] },
      conflict: { code: 409, reason: 'Conflict', causes: [['FieldManagerConflict', '.metadata.labels.a']] },
      forced: { code: 200, labels: { a: '1', b: '1' }, managers: [['alice', 'Apply', ['f:a', 'f:b']]] },
      dropped: { code: 200, labels: { a: '1' }, managers: [['alice', 'Apply', ['f:a']]] },
    },
  },
];
