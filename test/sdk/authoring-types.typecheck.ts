// Type-level test, checked by `tsc --noEmit`, never run: what .expand()/.partial(), branch(), shortCircuit() and
// sensor() accept and what their TaskRefs carry. Each `@ts-expect-error` proves a wrong use is rejected.
import { branch, dag, fileSensor, sensor, shortCircuit, task, type TaskRef } from '../../src/sdk/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(ok: Equal<A, B>): boolean => ok;

dag({ dagId: 'authoring_types', schedule: null }, () => {
  const nums = task('nums', async () => [1, 2, 3]);
  const words = task('words', async () => ['a', 'b']);
  const double = task('double', async (ctx, n: number) => ({ n: n * 2, at: new Date() }));
  const sum = task('sum', async (ctx, xs: { n: number; at: string }[]) => xs.length);

  // A mapped task's ref is the list of its results, after JSON.
  const doubled = double.expand(nums());
  same<typeof doubled, TaskRef<{ n: number; at: string }[]>>(true);
  sum(doubled);
  double.expand([1, 2, task('three', async () => 3)()]); // a literal list may hold results
  double.expand([1, 2, 3]);
  // @ts-expect-error a list of strings for a number parameter
  double.expand(words());
  // @ts-expect-error a literal list of the wrong type
  double.expand(['x']);
  // @ts-expect-error the mapped result is a list, not one value
  task('one', async (ctx, x: { n: number }) => x)(doubled);

  // One object parameter: fields are typed.
  const copy = task('copy', async (ctx, o: { src: string; dest: string; overwrite: boolean }) => `${o.src}→${o.dest}`);
  copy.partial({ overwrite: true }).expand({ src: words(), dest: ['/a', '/b'] });
  // @ts-expect-error a field of the wrong type
  copy.partial({ overwrite: 'yes' }).expand({ src: words() });
  // @ts-expect-error a field the object does not have
  copy.expand({ source: words() });
  // @ts-expect-error a mapped field must be a list
  copy.expand({ src: 'a' });

  // Several positional parameters: fields by name (checked when the DAG is parsed, not by the types).
  const add = task('add', async (ctx, x: number, y: number) => x + y);
  const added = add.partial({ y: 10 }).expand({ x: nums() });
  same<typeof added, TaskRef<number[]>>(true);

  // branch: the function returns task ids.
  branch('pick', async (ctx, n: number) => (n > 1 ? 'a' : ['b', 'c']))(task('n', async () => 1)());
  branch('pick_none', async () => null)();
  // @ts-expect-error a branch returns task ids, not numbers
  branch('bad_pick', async () => 42)();

  // shortCircuit: any value; its ref is the value.
  const gate = shortCircuit('gate', async () => 5)();
  same<typeof gate, TaskRef<number>>(true);

  // sensor: the ref is the truthy result.
  const found = sensor({ taskId: 's', timeout: 60, mode: 'reschedule' }, async (): Promise<string | false> => (Math.random() > 0.5 ? '/path' : false))();
  same<typeof found, TaskRef<string>>(true);
  // @ts-expect-error mode is poke or reschedule
  sensor({ taskId: 's2', timeout: 60, mode: 'wait' }, async () => true);
  same<typeof fileSensor, (o: Parameters<typeof fileSensor>[0]) => TaskRef<string>>(true);
});
