// A cron DAG with catchup: it starts three days ago (UTC midnight), so the scheduler creates exactly the
// three missed daily runs, oldest first, each with its own data interval.
import { dag, shell } from 'floe';

const DAY = 86_400_000;
const startOfTodayUtc = Math.floor(Date.now() / DAY) * DAY;

dag(
  {
    dagId: 'cron_catchup',
    schedule: '0 0 * * *',
    startDate: new Date(startOfTodayUtc - 3 * DAY),
    catchup: true,
    maxActiveRuns: 3,
    tags: ['example'],
  },
  () => {
    shell({ taskId: 'process_day', command: 'echo "processing {{ data_interval_start }} to {{ data_interval_end }} (ds={{ ds }})"' });
  },
);
