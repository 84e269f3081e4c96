// Type-level test, checked by `tsc --noEmit` (npm run typecheck), never run: a task's TaskRef has the type of
// its return value as downstream tasks receive it, after JSON. Each `@ts-expect-error` line proves a wrong
// type is rejected (tsc fails on an expectation that is not an error).
import { dag, task } from '../../src/sdk/index.ts';
import type { JsonValue, Jsonified } from '../../src/sdk/types.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Object types written out, so a mapped type and the literal type it equals compare as identical. */
type Shape<T> = T extends object ? { [K in keyof T]: Shape<T[K]> } : T;
const same = <A, B>(ok: Equal<Shape<A>, Shape<B>>): boolean => ok;

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}

// What a JSON round trip makes of each kind of value.
same<Jsonified<Date>, string>(true);
same<Jsonified<Date | null>, string | null>(true);
same<Jsonified<{ at: Date; n: number; f: () => void; u: undefined; o?: Date }>, { at: string; n: number; o?: string }>(true);
same<Jsonified<(Date | undefined | (() => void))[]>, (string | null)[]>(true);
same<Jsonified<readonly [Date, number]>, [string, number]>(true);
same<Jsonified<Point>, { x: number; y: number }>(true);
same<Jsonified<Map<string, number>>, Record<string, never>>(true);
same<Jsonified<void>, undefined>(true);
same<Jsonified<unknown>, unknown>(true);
same<Jsonified<string | number | boolean | null>, string | number | boolean | null>(true);
same<Jsonified<{ toJSON(): { v: Date } }>, { v: string }>(true);
const json: JsonValue = null as unknown as Jsonified<JsonValue>;
// @ts-expect-error a Date does not survive JSON
same<Jsonified<Date>, Date>(true);

export function typeChecks(): void {
  dag({ dagId: 'xcom_types', schedule: null }, () => {
    const when = task('when', async () => new Date());
    const rows = task('rows', async () => [{ at: new Date(), amount: 1, label: undefined as string | undefined }]);
    const point = task('point', () => new Point(1, 2));

    // What arrives is accepted…
    task('iso', (_ctx, d: string) => d.slice(0, 10))(when());
    task('rows_in', (_ctx, rs: { at: string; amount: number; label?: string }[]) => rs.length)(rows());
    task('xy', (_ctx, p: { x: number; y: number }) => p.x + p.y)(point());
    task('mixed', (_ctx, ds: string[]) => ds.length)([when(), '2024-01-01']);

    // …and what does not arrive is rejected.
    // @ts-expect-error a returned Date arrives as an ISO string, not a Date
    task('date', (_ctx, d: Date) => d.getTime())(when());
    // @ts-expect-error nested Dates arrive as strings too
    task('rows_dates', (_ctx, rs: { at: Date; amount: number }[]) => rs.length)(rows());
    // @ts-expect-error methods of a returned class instance do not arrive
    task('norm', (_ctx, p: Point) => p.norm())(point());
  });
  void json;
}
