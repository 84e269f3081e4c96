// Preloaded (`node --import`) into the scheduler processes these tests start: if the test process dies
// without cleaning up (killed, crashed), the scheduler it started SIGKILLs itself instead of running on
// as an orphan; its warm runners follow (they exit when their parent goes away).
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 500).unref();
