// Kubernetes' reasons for a pod that failed, in plain words (the reason itself is shown beside them).
const REASONS: [RegExp, string][] = [
  [/ErrImagePull|ImagePullBackOff|Failed to pull image|pull access denied|manifest unknown/i, 'The image could not be pulled: its name or tag is wrong, the registry is unreachable, or the node lacks the credentials (imagePullSecrets) to pull it.'],
  [/InvalidImageName/i, 'The image name is not a valid image reference: check the image of the base container.'],
  [/OOMKilled/i, 'The container used more memory than its limit and was killed (OOMKilled): raise resources.limits.memory or make the task use less memory.'],
  [/CreateContainerConfigError/i, 'The container could not be configured: a Secret or ConfigMap it refers to (env, envFrom, volume) is missing, or a key in it is.'],
  [/CreateContainerError|RunContainerError/i, 'The container runtime could not create or start the container: look at the events below for its message.'],
  [/Unschedulable|FailedScheduling|Insufficient (cpu|memory)|didn't match|node\(s\)/i, 'No node could take the pod: it asks for more CPU or memory than any node has free, or its node selector, affinity or tolerations match no node.'],
  [/pending timeout|podPendingTimeout|pending for longer|still pending/i, 'The pod stayed Pending longer than kubernetes.podPendingTimeout and was given up on (usually no node could take it, or its image was slow to pull).'],
  [/DeadlineExceeded/i, 'The pod ran longer than its activeDeadlineSeconds and was stopped.'],
  [/Evicted/i, 'The node evicted the pod, usually because it ran short of memory or disk.'],
  [/ContainerCannotRun|StartError/i, 'The container could not run its command: the entrypoint or command does not exist in the image.'],
  [/Error|exit code|ExitCode/i, 'The container exited with an error: the task log above says why.'],
];

export function explainPodReason(reason: string | null | undefined): string | null {
  if (!reason) return null;
  for (const [re, text] of REASONS) if (re.test(reason)) return text;
  return null;
}
