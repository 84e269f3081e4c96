// podTask: any image as a task. `count` runs in a pod of its own (busybox here; a Spark submitter, a dbt image,
// a training container in real life), gets an upstream result in its environment, and hands its result back
// on a `::floe-xcom::` line, which the downstream function task receives. Needs a cluster: trigger it with
// `floe dags trigger pod_task_example` once kubernetes.kubeconfig (or inCluster) is set — the dev cluster works.
import { dag, podTask, task } from 'floe';

dag({ dagId: 'pod_task_example', schedule: null, tags: ['example', 'kubernetes'], description: 'A task in a pod of any image, its XCom used downstream' }, () => {
  const words = task('words', async () => ['alpha', 'beta', 'gamma']);
  const count = podTask<{ words: number }>({
    taskId: 'count',
    image: 'busybox:1.36',
    command: ['sh', '-c'],
    args: ['echo "counting $WORDS on {{ ds }}"; n=$(echo "$WORDS" | tr "," "\\n" | wc -l); echo "::floe-xcom::{\\"words\\": $n}"'],
    env: { WORDS: words() },
    startupTimeout: 300,
    executionTimeout: 600,
  });
  task('report', async (ctx, c: { words: number }) => {
    ctx.log(`the pod counted ${c.words} words`);
    return c.words;
  })(count);
});
