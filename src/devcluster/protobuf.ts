// kubectl's typed clients send some request bodies as Kubernetes protobuf (`kubectl create configmap`,
// `create secret`, `create namespace`, typed deletes). This decodes that envelope (magic "k8s\0" +
// runtime.Unknown) for the kinds whose messages are small enough to describe here, into the JSON the
// rest of the server handles. Field numbers are those of k8s.io/api and apimachinery generated.proto.
import { badRequest, unsupportedMediaType } from './status.ts';

type Fields = Map<number, (Buffer | bigint)[]>;

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

/** Splits a message into its fields: varints as bigint, length-delimited as Buffer. */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    let value: Buffer | bigint;
    if (wire === 0) {
      [value, pos] = readVarint(buf, pos);
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      value = buf.subarray(p2, p2 + Number(len));
      pos = p2 + Number(len);
    } else if (wire === 1) {
      value = buf.subarray(pos, pos + 8);
      pos += 8;
    } else if (wire === 5) {
      value = buf.subarray(pos, pos + 4);
      pos += 4;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

const bytesOf = (f: Fields, n: number): Buffer | undefined => f.get(n)?.at(-1) as Buffer | undefined;
const str = (f: Fields, n: number): string | undefined => bytesOf(f, n)?.toString('utf8');
const num = (f: Fields, n: number): number | undefined => {
  const v = f.get(n)?.at(-1);
  return typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : undefined;
};
const bool = (f: Fields, n: number): boolean | undefined => (f.has(n) ? num(f, n) !== 0 : undefined);
const strs = (f: Fields, n: number): string[] | undefined => f.get(n)?.map((b) => (b as Buffer).toString('utf8'));

function map(f: Fields, n: number, value: (b: Buffer) => string): Record<string, string> | undefined {
  const entries = f.get(n);
  if (!entries) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    const ef = fields(e as Buffer);
    out[str(ef, 1) ?? ''] = value(bytesOf(ef, 2) ?? Buffer.alloc(0));
  }
  return out;
}

const utf8 = (b: Buffer) => b.toString('utf8');
const base64 = (b: Buffer) => b.toString('base64');

function time(b: Buffer | undefined): string | undefined {
  if (!b) return undefined;
  const f = fields(b);
  return new Date((num(f, 1) ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Drops unset fields; Go's proto2 encoding writes empty strings for them, which mean "unset" too. */
function prune<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined || o[k] === '') delete o[k];
  return o;
}

function objectMeta(b: Buffer | undefined): Record<string, unknown> {
  if (!b) return {};
  const f = fields(b);
  return prune({
    name: str(f, 1),
    generateName: str(f, 2),
    namespace: str(f, 3),
    uid: str(f, 5),
    resourceVersion: str(f, 6),
    generation: num(f, 7),
    creationTimestamp: time(bytesOf(f, 8)),
    labels: map(f, 11, utf8),
    annotations: map(f, 12, utf8),
    ownerReferences: f.get(13)?.map((o) => {
      const of = fields(o as Buffer);
      return prune({ kind: str(of, 1), name: str(of, 3), uid: str(of, 4), apiVersion: str(of, 5), controller: bool(of, 6), blockOwnerDeletion: bool(of, 7) });
    }),
    finalizers: strs(f, 14),
  });
}

const DECODERS: Record<string, (f: Fields) => Record<string, unknown>> = {
  ConfigMap: (f) => prune({ metadata: objectMeta(bytesOf(f, 1)), data: map(f, 2, utf8), binaryData: map(f, 3, base64), immutable: bool(f, 4) }),
  Secret: (f) =>
    prune({ metadata: objectMeta(bytesOf(f, 1)), data: map(f, 2, base64), type: str(f, 3), stringData: map(f, 4, utf8), immutable: bool(f, 5) }),
  Namespace: (f) => {
    const spec = bytesOf(f, 2);
    return prune({ metadata: objectMeta(bytesOf(f, 1)), spec: spec ? prune({ finalizers: strs(fields(spec), 1) }) : undefined });
  },
  DeleteOptions: (f) => {
    const pre = bytesOf(f, 2);
    return prune({
      gracePeriodSeconds: num(f, 1),
      preconditions: pre ? prune({ uid: str(fields(pre), 1), resourceVersion: str(fields(pre), 2) }) : undefined,
      orphanDependents: bool(f, 3),
      propagationPolicy: str(f, 4),
      dryRun: strs(f, 5),
    });
  },
};

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a Kubernetes protobuf request body into JSON (with apiVersion and kind). */
export function decodeK8sProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf body without the "k8s\\x00" prefix');
  let kind: string | undefined;
  let apiVersion: string | undefined;
  let raw: Buffer | undefined;
  try {
    const unknown = fields(body.subarray(4));
    const tm = bytesOf(unknown, 1);
    if (tm) {
      const tf = fields(tm);
      apiVersion = str(tf, 1);
      kind = str(tf, 2);
    }
    raw = bytesOf(unknown, 2);
  } catch (e) {
    throw badRequest(`could not decode protobuf body: ${(e as Error).message}`);
  }
  const decode = kind ? DECODERS[kind] : undefined;
  if (!decode) {
    throw unsupportedMediaType(`application/vnd.kubernetes.protobuf (${kind ?? 'unknown kind'})`, [
      'application/json',
      'application/yaml',
      'application/vnd.kubernetes.protobuf for ConfigMap, Secret, Namespace and DeleteOptions',
    ]);
  }
  try {
    return { apiVersion, kind, ...decode(fields(raw ?? Buffer.alloc(0))) };
  } catch (e) {
    throw badRequest(`could not decode protobuf ${kind}: ${(e as Error).message}`);
  }
}
