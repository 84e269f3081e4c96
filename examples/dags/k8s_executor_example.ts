// The seed example: a daily DAG whose task reads the STATE environment variable and reports that state's
// daily increase in tests. On Kubernetes its podOverride adds a label and sets STATE=wa in the worker pod.
import { readFileSync } from 'node:fs';
import { dag, task } from 'floe';

const DATA = new URL('./data/states_current.json', import.meta.url);

dag(
  {
    dagId: 'k8s_executor_example',
    schedule: '@daily',
    startDate: '2024-01-01',
    catchup: false,
    tags: ['example', 'kubernetes'],
    description: 'Reads STATE from the pod environment set by executorConfig.podOverride',
  },
  () => {
    const getTestingIncrease = task(
      {
        taskId: 'get_testing_increase',
        executorConfig: {
          podOverride: {
            metadata: { labels: { purpose: 'pod-override-example' } },
            spec: { containers: [{ name: 'base', env: [{ name: 'STATE', value: 'wa' }] }] },
          },
        },
      },
      async (ctx) => {
        // Outside Kubernetes the override (and so STATE) is not applied; fall back to the same value.
        const state = (process.env.STATE ?? 'wa').toLowerCase();
        if (!process.env.STATE) ctx.log('STATE is not set (no pod override on this executor); using "wa"');
        const data = JSON.parse(readFileSync(DATA, 'utf8')) as Record<string, { totalTestResultsIncrease: number }>;
        const row = data[state];
        if (!row) throw new Error(`no data for state "${state}"`);
        return { state, testing_increase: row.totalTestResultsIncrease };
      },
    );
    getTestingIncrease();
  },
);
